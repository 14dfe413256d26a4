// Snapshots with GitHub metadata (docs/METADATA_FORMAT.md "In a snapshot") for export --metadata and restore
// --metadata-to: a sample set of records (hostile text included) carried in by a sync from the live metadata
// repository, or, for a tampered snapshot, metadata put with git plumbing into a snapshot the engine took.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBackup, createUpstream, okValue, type TestBackup, type Upstream } from './git-fixtures.ts';
import { metadataPaths, serializeDocument, SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO, type CaptureDocument, type Issue, type Pull, type Release } from '../../src/github-metadata/format.ts';
import { createMetadataRepo } from './metadata-repo.ts';

const ENV = { ...process.env, GIT_AUTHOR_NAME: 'capture', GIT_AUTHOR_EMAIL: 'capture@example.com', GIT_COMMITTER_NAME: 'capture', GIT_COMMITTER_EMAIL: 'capture@example.com', GIT_CONFIG_NOSYSTEM: '1' };

function plumbing(gitDir: string, args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): string {
  return execFileSync('git', ['--git-dir', gitDir, ...args], { env: { ...ENV, ...options.env }, input: options.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

/** Commit `documents` (tree path -> JSON value, or raw text) on `main` of the bare repository `gitDir`, creating it. */
export function commitMetadata(gitDir: string, documents: Record<string, unknown>, message = 'capture'): string {
  mkdirSync(gitDir, { recursive: true });
  // No template: a snapshot's metadata repository never holds hooks (src/snapshot-files.ts).
  plumbing(gitDir, ['init', '--bare', '--quiet', '--template=', '--initial-branch=main']);
  const index = join(gitDir, 'fixture-index');
  rmSync(index, { force: true });
  for (const [path, value] of Object.entries(documents)) {
    const oid = plumbing(gitDir, ['hash-object', '-w', '--stdin'], { input: typeof value === 'string' ? value : serializeDocument(value) });
    plumbing(gitDir, ['update-index', '--add', '--cacheinfo', `100644,${oid},${path}`], { env: { GIT_INDEX_FILE: index } });
  }
  const tree = plumbing(gitDir, ['write-tree'], { env: { GIT_INDEX_FILE: index } });
  rmSync(index, { force: true });
  let parent = '';
  try {
    parent = plumbing(gitDir, ['rev-parse', '--verify', '--quiet', 'refs/heads/main']);
  } catch {
    // the first commit
  }
  const commit = plumbing(gitDir, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message]);
  plumbing(gitDir, ['update-ref', 'refs/heads/main', commit]);
  return commit;
}

export const sha256Of = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Put metadata into a snapshot the engine took (its directories are read-only: opened for the fixture, then closed).
 * An asset is its bytes (filed under their sha256) or bytes filed under another name (a damaged file).
 */
export function addMetadataToSnapshot(snapshotDir: string, documents: Record<string, unknown>, assets: Array<Buffer | { sha256: string; bytes: Buffer }> = []): string {
  const mode = statSync(snapshotDir).mode & 0o777;
  chmodSync(snapshotDir, 0o755);
  try {
    const commit = commitMetadata(join(snapshotDir, SNAPSHOT_METADATA_REPO), documents);
    mkdirSync(join(snapshotDir, SNAPSHOT_METADATA_ASSETS), { recursive: true });
    for (const asset of assets) {
      const { sha256, bytes } = Buffer.isBuffer(asset) ? { sha256: sha256Of(asset), bytes: asset } : asset;
      writeFileSync(join(snapshotDir, SNAPSHOT_METADATA_ASSETS, sha256), bytes, { mode: 0o444 });
    }
    return commit;
  } finally {
    chmodSync(snapshotDir, mode);
  }
}

/**
 * A synced backup of a real upstream (acme/widgets) whose newest snapshot carries GitHub metadata. By default the
 * sample, written into the live metadata repository (test/helpers/metadata-repo.ts) and carried into the snapshot by
 * the sync itself. With `documents` (and `assets`), a tampered snapshot instead: those are put into the snapshot after
 * it was taken, as an attacker or damage would, so they may be invalid in ways the live repository never is.
 */
export async function backupWithMetadata(
  cleanups: Array<() => void>,
  options: {
    documents?: Record<string, unknown>;
    assets?: Parameters<typeof addMetadataToSnapshot>[2];
    settings?: Parameters<typeof createBackup>[1];
    /** The live metadata instead of the sample, made from the upstream (which it may add commits and branches to). */
    live?: (upstream: Upstream) => { documents: Record<string, unknown>; assets?: Buffer[] };
  } = {},
): Promise<{ b: TestBackup; snapshot: string; commit: string; sample: SampleMetadata; upstream: Upstream }> {
  const upstream = createUpstream();
  cleanups.push(() => upstream.cleanup());
  const sample = sampleMetadata();
  const chosen = options.live?.(upstream) ?? sample;
  const b = createBackup([upstream], options.settings);
  const tampered = options.documents !== undefined || options.assets !== undefined;
  let commit = '';
  if (!tampered) {
    const live = createMetadataRepo(b.root, { owner: 'acme', name: 'widgets' });
    for (const [path, document] of Object.entries(chosen.documents)) if (path !== metadataPaths.format && path !== metadataPaths.capture) live.put(path, document);
    for (const bytes of chosen.assets ?? []) live.addAsset(bytes);
    const capture = (chosen.documents[metadataPaths.capture] ?? sample.documents[metadataPaths.capture]) as CaptureDocument;
    commit = live.commit(capture.capturedAt, capture.kinds);
  }
  const synced = await b.engine.sync();
  if (synced.exitCode !== 0) throw new Error(`sync failed: ${JSON.stringify(synced.outcomes)}`);
  const snapshot = okValue(await b.engine.list()).snapshots.at(-1)!.name;
  if (tampered) commit = addMetadataToSnapshot(join(b.root, 'snapshots', 'acme', 'widgets', snapshot), options.documents ?? sample.documents, options.assets ?? sample.assets);
  return { b, snapshot, commit, sample, upstream };
}

/** Strings that would run script or break out of markup were they not escaped. */
export const HOSTILE = {
  title: '<script>alert("title")</script>',
  body: 'look: <script>alert(1)</script> and "><img src=x onerror=alert(2)> then </pre><script>alert(3)</script>',
  login: 'mallory"><svg onload=alert(4)>',
  fileName: '../../<b>evil</b>".sh',
  hunk: '@@ -1 +1 @@\n-<iframe src=javascript:alert(5)>\n+</pre><script>alert(6)</script>',
};

const t = (day: number, hour = 12) => `2026-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;

const issueBase = (number: number, overrides: Partial<Issue> = {}): Issue => ({
  number,
  title: `Issue ${number}`,
  body: `Body of ${number}`,
  state: 'open',
  stateReason: null,
  author: 'alice',
  createdAt: t(1),
  updatedAt: t(1),
  closedAt: null,
  labels: [],
  assignees: [],
  milestone: null,
  locked: false,
  reactions: {},
  comments: [],
  ...overrides,
});

export interface SampleMetadata {
  documents: Record<string, unknown>;
  assets: Buffer[];
  issues: Issue[];
  pulls: Pull[];
  releases: Release[];
}

/** Labels, a milestone, an open and a closed issue (hostile text), a pull request with a review thread, a release with a kept and a skipped asset. */
export function sampleMetadata(): SampleMetadata {
  const binary = Buffer.from('release binary \u0000\u0001\u0002 bytes');
  const notes = Buffer.from('release notes file');
  const issues: Issue[] = [
    issueBase(1, {
      title: 'Crash on start',
      labels: ['bug'],
      assignees: ['bob'],
      milestone: 1,
      comments: [
        { id: 11, author: 'bob', body: 'I see it too', createdAt: t(2), updatedAt: t(2), reactions: { '+1': 2 } },
        { id: 12, author: null, body: 'from a deleted account', createdAt: t(3), updatedAt: t(4) },
      ],
    }),
    issueBase(2, { title: HOSTILE.title, body: HOSTILE.body, author: HOSTILE.login, state: 'closed', stateReason: 'completed', closedAt: t(5), comments: [{ id: 21, author: HOSTILE.login, body: HOSTILE.body, createdAt: t(4), updatedAt: t(4) }] }),
  ];
  const pulls: Pull[] = [
    {
      ...issueBase(3, { title: 'Add the widget', body: 'Adds it.', author: 'carol', labels: ['enhancement'] }),
      comments: [{ id: 31, author: 'alice', body: 'Thanks!', createdAt: t(6), updatedAt: t(6) }],
      draft: false,
      merged: false,
      mergedAt: null,
      mergeCommitSha: null,
      base: { ref: 'main', sha: 'a'.repeat(40), repository: 'acme/widgets' },
      head: { ref: 'feature', sha: 'b'.repeat(40), repository: 'acme/widgets' },
      reviews: [{ id: 301, author: 'bob', state: 'CHANGES_REQUESTED', body: 'One thing.', submittedAt: t(7), commitId: 'b'.repeat(40) }],
      reviewComments: [
        { id: 3001, author: 'bob', body: 'Rename this.', createdAt: t(7), updatedAt: t(7), reviewId: 301, inReplyTo: null, path: 'feature.txt', diffHunk: HOSTILE.hunk, line: 1, originalLine: 1, side: 'RIGHT', commitId: 'b'.repeat(40), originalCommitId: 'b'.repeat(40) },
        { id: 3002, author: 'carol', body: 'Done.', createdAt: t(8), updatedAt: t(8), reviewId: 302, inReplyTo: 3001, path: 'feature.txt', diffHunk: HOSTILE.hunk, line: 1, originalLine: 1, side: 'RIGHT', commitId: 'b'.repeat(40), originalCommitId: 'b'.repeat(40) },
      ],
    },
  ];
  const releases: Release[] = [
    {
      id: 900,
      tagName: 'v1.0',
      targetCommitish: 'main',
      name: 'First release',
      body: 'Notes <b>not bold</b>',
      draft: false,
      prerelease: false,
      author: 'alice',
      createdAt: t(9),
      publishedAt: t(9),
      assets: [
        { id: 9001, name: HOSTILE.fileName, label: 'the binary', contentType: 'application/octet-stream', size: binary.length, createdAt: t(9), updatedAt: t(9), sha256: sha256Of(binary) },
        { id: 9002, name: 'notes.txt', label: null, contentType: 'text/plain', size: notes.length, createdAt: t(9), updatedAt: t(9), sha256: sha256Of(notes) },
        { id: 9003, name: 'huge.iso', label: null, contentType: 'application/octet-stream', size: 5_000_000_000, createdAt: t(9), updatedAt: t(9), sha256: null, skipped: 'over metadata.assetMaxBytes (1 GiB)' },
      ],
    },
  ];
  const documents: Record<string, unknown> = {
    'format.json': { format: 'github-private-backup-metadata', version: 1 },
    'capture.json': { capturedAt: t(10), repository: 'acme/widgets', kinds: { issues: { state: 'complete', count: 2 }, pulls: { state: 'complete', count: 1 }, releases: { state: 'complete', count: 1 } } },
    'labels.json': [
      { name: 'bug', color: 'd73a4a', description: 'Something is broken' },
      { name: 'enhancement', color: 'a2eeef', description: null },
    ],
    'commit-comments/700.json': { id: 700, author: 'dave', body: HOSTILE.body, createdAt: t(11), updatedAt: t(11), commitId: 'c'.repeat(40), path: HOSTILE.fileName, line: 3, position: 3 },
    'milestones/1.json': { number: 1, title: 'v1', description: 'First cut', state: 'open', dueOn: t(30), createdAt: t(1), updatedAt: t(1), closedAt: null },
    ...Object.fromEntries(issues.map((i) => [`issues/${i.number}.json`, i])),
    ...Object.fromEntries(pulls.map((p) => [`pulls/${p.number}.json`, p])),
    ...Object.fromEntries(releases.map((r) => [`releases/${r.id}.json`, r])),
  };
  return { documents, assets: [binary, notes], issues, pulls, releases };
}
