// A live GitHub metadata repository for tests, written with real git plumbing (hash-object, mktree, commit-tree,
// update-ref) where the capture would write it (Layout.metadataRepo), with documents that pass the schemas of
// src/github-metadata/format.ts, and release assets in Layout.metadataAssets. Each commit() is one capture.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  captureDocumentSchema,
  formatDocumentSchema,
  issueSchema,
  METADATA_BRANCH,
  METADATA_REPO_FORMAT,
  METADATA_REPO_VERSION,
  metadataPaths,
  releaseSchema,
  serializeDocument,
  type Asset,
  type CaptureDocument,
  type Issue,
  type Release,
} from '../../src/github-metadata/format.ts';
import { Layout } from '../../src/layout.ts';
import { git } from './git-fixtures.ts';

export interface MetadataRepo {
  /** The live metadata repository (bare, branch main). */
  dir: string;
  /** Release assets, one read-only file per sha256. */
  assetsDir: string;
  /** Set (or with null remove) a document for the next commit; validated against its schema first. */
  put(path: string, document: unknown): void;
  /** Store an asset's bytes as the capture would; returns its sha256. */
  addAsset(bytes: Buffer | string): string;
  /** Commit the documents as they now are (capture.json stamped `capturedAt`) and move main; returns the commit. */
  commit(capturedAt?: string, kinds?: CaptureDocument['kinds']): string;
}

const TIME = '2026-01-01T00:00:00Z';

export function sampleIssue(number: number, title: string, body: string | null = 'body'): Issue {
  return issueSchema.parse({
    number,
    title,
    body,
    state: 'open',
    author: 'octocat',
    createdAt: TIME,
    updatedAt: TIME,
    closedAt: null,
    labels: ['bug'],
    assignees: [],
    milestone: null,
    locked: false,
    comments: [{ id: number * 100, author: null, body: 'a comment', createdAt: TIME, updatedAt: TIME }],
  });
}

export function sampleRelease(id: number, tagName: string, assets: Array<{ sha256: string | null; size: number; skipped?: string }>): Release {
  return releaseSchema.parse({
    id,
    tagName,
    targetCommitish: 'main',
    name: tagName,
    body: null,
    draft: false,
    prerelease: false,
    author: 'octocat',
    createdAt: TIME,
    publishedAt: TIME,
    assets: assets.map(
      (a, i): Asset => ({ id: id * 10 + i, name: `asset-${i}.bin`, label: null, contentType: 'application/octet-stream', size: a.size, createdAt: TIME, updatedAt: TIME, sha256: a.sha256, ...(a.skipped ? { skipped: a.skipped } : {}) }),
    ),
  });
}

/** A tree (and its subtrees) from a flat path -> blob map, through git mktree. */
function writeTree(dir: string, blobs: Map<string, string>): string {
  const here: string[] = [];
  const folders = new Map<string, Map<string, string>>();
  for (const [path, oid] of blobs) {
    const slash = path.indexOf('/');
    if (slash < 0) here.push(`100644 blob ${oid}\t${path}`);
    else {
      const folder = path.slice(0, slash);
      if (!folders.has(folder)) folders.set(folder, new Map());
      folders.get(folder)!.set(path.slice(slash + 1), oid);
    }
  }
  for (const [folder, inner] of folders) here.push(`040000 tree ${writeTree(dir, inner)}\t${folder}`);
  return execFileSync('git', ['mktree'], { cwd: dir, input: `${here.join('\n')}\n`, encoding: 'utf8' }).trim();
}

export function createMetadataRepo(root: string, repo: { owner: string; name: string }): MetadataRepo {
  const layout = new Layout(root);
  const dir = layout.metadataRepo(repo);
  const assetsDir = layout.metadataAssets(repo);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--bare', '--quiet', '--initial-branch=main');
  const documents = new Map<string, string>();
  let documentsCommitted = false;
  const put = (path: string, document: unknown) => {
    if (document === null) documents.delete(path);
    else documents.set(path, serializeDocument(document));
  };
  put(metadataPaths.format, formatDocumentSchema.parse({ format: METADATA_REPO_FORMAT, version: METADATA_REPO_VERSION }));
  return {
    dir,
    assetsDir,
    put,
    addAsset(bytes) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      mkdirSync(assetsDir, { recursive: true });
      const file = join(assetsDir, sha256);
      if (!existsSync(file)) {
        writeFileSync(file, bytes);
        chmodSync(file, 0o444);
      }
      return sha256;
    },
    commit(capturedAt = TIME, kinds = {}) {
      put(metadataPaths.capture, captureDocumentSchema.parse({ capturedAt, repository: `${repo.owner}/${repo.name}`, kinds }));
      const blobs = new Map<string, string>();
      for (const [path, text] of [...documents].sort(([a], [b]) => (a < b ? -1 : 1))) {
        blobs.set(path, execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: text, encoding: 'utf8' }).trim());
      }
      const tree = writeTree(dir, blobs);
      const parent = documentsCommitted ? git(dir, 'rev-parse', `${METADATA_BRANCH}^{commit}`).trim() : '';
      const commit = execFileSync('git', ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', `capture ${capturedAt}`], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, GIT_AUTHOR_NAME: 'capture', GIT_AUTHOR_EMAIL: 'capture@localhost', GIT_COMMITTER_NAME: 'capture', GIT_COMMITTER_EMAIL: 'capture@localhost', GIT_AUTHOR_DATE: capturedAt, GIT_COMMITTER_DATE: capturedAt },
      }).trim();
      git(dir, 'update-ref', METADATA_BRANCH, commit);
      documentsCommitted = true;
      return commit;
    },
  };
}
