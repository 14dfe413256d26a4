// Reading the GitHub metadata a snapshot carries (docs/METADATA_FORMAT.md "In a snapshot"), for export --metadata
// and restore --metadata-to. The snapshot is untrusted data: its structure has been checked
// (src/engine/structure.ts) before this runs, and git reads the metadata repository only through a scratch
// repository of ours that borrows its objects, so the snapshot's own config, hooks and refs files are never git's
// configuration (docs/ARCHITECTURE.md invariant 7).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { formatCount } from '../bounded-read.ts';
import { BackupError, NotFoundError } from '../errors.ts';
import { removeTree } from '../fsutil.ts';
import { renderConfig, snapshotConfig } from '../git/config-template.ts';
import type { GitCommandManager } from '../git/git.ts';
import { materialize } from '../engine/materialize.ts';
import { leadsGitElsewhere, type SnapshotStructure } from '../engine/structure.ts';
import {
  assetFileName,
  captureDocumentSchema,
  commitCommentSchema,
  formatDocumentSchema,
  issueSchema,
  labelsDocumentSchema,
  METADATA_BRANCH,
  metadataPaths,
  milestoneSchema,
  pullSchema,
  releaseSchema,
  repositorySettingsSchema,
  SNAPSHOT_METADATA_ASSETS,
  SNAPSHOT_METADATA_REPO,
  type CaptureDocument,
  type CommitComment,
  type Issue,
  type Label,
  type Milestone,
  type Pull,
  type Release,
  type RepositorySettings,
} from './format.ts';

/** A document larger than this is not one the capture wrote (GitHub caps a body at 65,536 characters). */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;
// Blobs asked of one `git cat-file --batch`: bounds the bytes held at once for a repository of many records.
const BATCH = 500;

/** Everything one snapshot's metadata repository holds, validated, each list sorted by number or id. */
export interface MetadataRecords {
  /** The metadata repository's `main` commit that was read. */
  commit: string;
  capture: CaptureDocument | null;
  repository: RepositorySettings | null;
  labels: Label[];
  milestones: Milestone[];
  issues: Issue[];
  pulls: Pull[];
  commitComments: CommitComment[];
  releases: Release[];
}

export interface SnapshotMetadata {
  records: MetadataRecords;
  /** The file holding an asset's bytes in the snapshot, or null when the snapshot has none by that sha256. */
  assetFile(sha256: string): string | null;
}

interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  size: number;
  path: string;
}

/** Where each kind of document lives in the tree, with the number or id its file name gives. */
const NUMBERED: Array<{ pattern: RegExp; kind: 'milestones' | 'issues' | 'pulls' | 'commitComments' | 'releases'; key: 'number' | 'id' }> = [
  { pattern: /^milestones\/([1-9][0-9]*)\.json$/, kind: 'milestones', key: 'number' },
  { pattern: /^issues\/([1-9][0-9]*)\.json$/, kind: 'issues', key: 'number' },
  { pattern: /^pulls\/([1-9][0-9]*)\.json$/, kind: 'pulls', key: 'number' },
  { pattern: /^commit-comments\/([0-9]+)\.json$/, kind: 'commitComments', key: 'id' },
  { pattern: /^releases\/([0-9]+)\.json$/, kind: 'releases', key: 'id' },
];
const SCHEMAS = { milestones: milestoneSchema, issues: issueSchema, pulls: pullSchema, commitComments: commitCommentSchema, releases: releaseSchema } as const;

/** `ls-tree -r -z -l` output: `<mode> <type> <oid> <size>\t<path>\0`, the size right-aligned. */
export function parseTreeListing(output: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.split('\0')) {
    if (!record) continue;
    const match = /^([0-7]+) (\w+) ([0-9a-f]{40,64}) +(-|[0-9]+)\t(.*)$/s.exec(record);
    if (!match) throw new BackupError(`unexpected git ls-tree output: ${JSON.stringify(record.slice(0, 200))}`);
    entries.push({ mode: match[1]!, type: match[2]!, oid: match[3]!, size: match[4] === '-' ? 0 : Number(match[4]), path: match[5]! });
  }
  return entries;
}

/** `cat-file --batch` output for `oids`, in order: `<oid> blob <size>\n<bytes>\n` each. */
export function parseBatchOutput(output: Buffer, oids: string[]): Buffer[] {
  const blobs: Buffer[] = [];
  let at = 0;
  for (const oid of oids) {
    const newline = output.indexOf(0x0a, at);
    if (newline < 0) throw new BackupError(`git cat-file ended early: no answer for ${oid}`);
    const header = output.subarray(at, newline).toString('utf8');
    const match = /^([0-9a-f]{40,64}) blob ([0-9]+)$/.exec(header);
    if (!match || match[1] !== oid) throw new BackupError(`git cat-file answered ${JSON.stringify(header)} for ${oid}`);
    const start = newline + 1;
    const end = start + Number(match[2]);
    if (end > output.length) throw new BackupError(`git cat-file ended early in ${oid}`);
    blobs.push(output.subarray(start, end));
    at = end + 1;
  }
  return blobs;
}

/** One document, parsed and validated; `what` and `path` name it in the error. */
export function parseDocument<S extends z.ZodType>(what: string, path: string, bytes: Buffer, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new BackupError(`${what}: ${path} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new BackupError(`${what}: ${path} is not a valid document of its kind (${field}${issue.message}; docs/METADATA_FORMAT.md)`);
  }
  return parsed.data;
}

/**
 * Refuse a snapshot whose metadata repository would lead git elsewhere (alternates, commondir, gitdir): the scratch
 * repository borrows its objects, and git follows alternates from there. `structure` was checked by the caller.
 */
function metadataRepoFiles(structure: SnapshotStructure, what: string): SnapshotStructure['files'] {
  const prefix = `${SNAPSHOT_METADATA_REPO}/`;
  const files = structure.files.filter((f) => f.rel.startsWith(prefix));
  if (!files.length) throw new NotFoundError(`${what}: the snapshot holds no GitHub metadata (${SNAPSHOT_METADATA_REPO} is missing); it was taken without a metadata capture`);
  const leading = files.filter((f) => leadsGitElsewhere(f.rel.slice(prefix.length)));
  if (leading.length) throw new BackupError(`${what}: refusing to read ${SNAPSHOT_METADATA_REPO}: git would read another directory through ${leading.map((f) => f.rel).join(', ')}`);
  return files;
}

async function readBlobs(git: GitCommandManager, repo: string, entries: TreeEntry[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < entries.length; i += BATCH) {
    const oids = entries.slice(i, i + BATCH).map((e) => e.oid);
    const bytes = await git.runBytes(repo, ['cat-file', '--batch'], { input: Buffer.from(`${oids.join('\n')}\n`) });
    out.push(...parseBatchOutput(bytes, oids));
  }
  return out;
}

/** Read every document of `commit` in the (scratch) repository `repo`. */
async function readRecords(git: GitCommandManager, repo: string, commit: string, what: string): Promise<MetadataRecords> {
  const entries = parseTreeListing(await git.run(repo, ['ls-tree', '-r', '-z', '-l', '--full-tree', commit]));
  const known = entries.filter((e) => e.path === metadataPaths.format || e.path === metadataPaths.capture || e.path === metadataPaths.repository || e.path === metadataPaths.labels || NUMBERED.some((n) => n.pattern.test(e.path)));
  for (const entry of known) {
    if (entry.type !== 'blob' || !/^100(644|755)$/.test(entry.mode)) throw new BackupError(`${what}: ${entry.path} is not a file in the metadata repository (mode ${entry.mode})`);
    if (entry.size > MAX_DOCUMENT_BYTES) throw new BackupError(`${what}: ${entry.path} is ${formatCount(entry.size)} bytes, over the ${formatCount(MAX_DOCUMENT_BYTES)}-byte limit for one document: it is damaged or was tampered with`);
  }
  if (!known.some((e) => e.path === metadataPaths.format)) throw new BackupError(`${what}: ${metadataPaths.format} is missing: this is not a metadata repository (docs/METADATA_FORMAT.md)`);
  const blobs = await readBlobs(git, repo, known);
  const byPath = new Map(known.map((e, i) => [e.path, blobs[i]!]));
  const single = <S extends z.ZodType>(path: string, schema: S): z.infer<S> | null => {
    const bytes = byPath.get(path);
    return bytes ? parseDocument(what, path, bytes, schema) : null;
  };
  // A reader refuses other versions (docs/METADATA_FORMAT.md): their documents may mean something else.
  const format = safeJson(byPath.get(metadataPaths.format)!);
  if (!formatDocumentSchema.safeParse(format).success) {
    const version = (format as { version?: unknown } | null)?.version ?? null;
    throw new BackupError(`${what}: ${metadataPaths.format} names format ${JSON.stringify(version)}, not version 1 of github-private-backup-metadata, the one this tool reads`);
  }
  const records: MetadataRecords = {
    commit,
    capture: single(metadataPaths.capture, captureDocumentSchema),
    repository: single(metadataPaths.repository, repositorySettingsSchema),
    labels: single(metadataPaths.labels, labelsDocumentSchema) ?? [],
    milestones: [],
    issues: [],
    pulls: [],
    commitComments: [],
    releases: [],
  };
  for (const entry of known) {
    for (const numbered of NUMBERED) {
      const match = numbered.pattern.exec(entry.path);
      if (!match) continue;
      const doc = parseDocument(what, entry.path, byPath.get(entry.path)!, SCHEMAS[numbered.kind]) as { number?: number; id?: number };
      // The file name is how restore maps old numbers to new ones: a document filed under another number is damaged.
      if (doc[numbered.key] !== Number(match[1])) throw new BackupError(`${what}: ${entry.path} holds ${numbered.key} ${String(doc[numbered.key])}, not the ${match[1]} its name says`);
      (records[numbered.kind] as unknown[]).push(doc);
    }
  }
  const byNumber = (a: { number: number }, b: { number: number }) => a.number - b.number;
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  records.milestones.sort(byNumber);
  records.issues.sort(byNumber);
  records.pulls.sort(byNumber);
  records.commitComments.sort(byId);
  records.releases.sort(byId);
  return records;
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * The metadata of the snapshot at `snapshotDir`, read as of its metadata repository's `main`. `structure` is the
 * snapshot's structure, already checked safe by the caller (assertSafeStructure).
 */
export async function readSnapshotMetadata(git: GitCommandManager, snapshotDir: string, structure: SnapshotStructure, what: string): Promise<SnapshotMetadata> {
  metadataRepoFiles(structure, what);
  const scratch = await mkdtemp(join(tmpdir(), 'gpb-metadata-'));
  try {
    const repo = join(scratch, 'repo.git');
    await materialize(join(snapshotDir, SNAPSHOT_METADATA_REPO), repo, { objects: 'borrow', config: renderConfig(snapshotConfig()), copyMode: 0o644, fsync: false });
    // The commit snapshot.json records is the snapshot's metadata; main of the copy, where it records none.
    const recorded = structure.metadata?.githubMetadata?.commit;
    const commit = (await git.run(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${recorded ?? METADATA_BRANCH}^{commit}`], { okExitCodes: [1] })).trim();
    if (!commit && recorded) throw new BackupError(`${what}: snapshot.json records metadata commit ${recorded}, which ${SNAPSHOT_METADATA_REPO} does not hold: the snapshot is damaged (run verify)`);
    if (!commit) throw new BackupError(`${what}: ${SNAPSHOT_METADATA_REPO} has no ${METADATA_BRANCH}: nothing was captured into it`);
    const records = await readRecords(git, repo, commit, what);
    const assets = new Set(structure.files.filter((f) => f.rel.startsWith(`${SNAPSHOT_METADATA_ASSETS}/`)).map((f) => f.rel.slice(SNAPSHOT_METADATA_ASSETS.length + 1)));
    return {
      records,
      assetFile: (sha256) => (assets.has(assetFileName(sha256)) ? join(snapshotDir, SNAPSHOT_METADATA_ASSETS, sha256) : null),
    };
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
}
