// A snapshot's manifest in the store: what the snapshot is and every file it needs (docs/STORE_FORMAT.md).
// Written last by a push, so a snapshot is in the store if and only if its manifest is. Pure.
import { z } from 'zod';
import { BackupError } from '../errors.ts';
import { isSnapshotName, isValidOwner, isValidRepoName } from '../naming.ts';
import { METADATA_FILE, snapshotFileTreatment } from '../snapshot-files.ts';
import { objectKey } from './format.ts';

export const MANIFEST_FORMAT = 'github-private-backup-snapshot-manifest';
export const MANIFEST_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const size = z.number().int().nonnegative();

const manifestFileSchema = z
  .object({
    /** Path inside the bare repository, forward slashes (checked by assertSafeRepoPath before any use). */
    path: z.string(),
    size,
    sha256,
    /** Where the bytes are: objects/<sha256[0:2]>/<sha256>. */
    key: z.string(),
    /** Bytes as stored (ciphertext with encryption): what `store verify` checks without downloading. */
    storedSize: size,
  })
  .strict();

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.literal(MANIFEST_VERSION),
    tool: z.object({ name: z.string(), version: z.string() }).strict(),
    repository: z.string(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    pushedAt: z.iso.datetime(),
    sourceUrl: z.string(),
    head: z.object({ hash: z.string(), date: z.string(), subject: z.string() }).nullable(),
    headRef: z.string().nullable(),
    /** Carried verbatim from the snapshot's snapshot.json (which the manifest also lists, byte-exact, as a file). */
    refs: z.unknown(),
    files: z.array(manifestFileSchema),
    totals: z.object({ files: size, bytes: size, storedBytes: size }).strict(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;

const UNSAFE_SEGMENT = new Set(['', '.', '..']);

/**
 * A manifest path is data from the store, never trusted: relative, forward slashes, no empty, "." or ".."
 * segment, no backslash or control character, and only a file a snapshot may hold (src/snapshot-files.ts):
 * hooks, alternates, lock files and temporaries are refused.
 */
export function unsafeRepoPathReason(path: string): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'empty path';
  if (path.length > 4096) return 'path too long';
  if (path.startsWith('/')) return 'absolute path';
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(path)) return 'backslash or control character in path';
  if (path.split('/').some((segment) => UNSAFE_SEGMENT.has(segment))) return 'empty, "." or ".." path segment';
  if (path === METADATA_FILE) return null;
  if (snapshotFileTreatment(path) === 'skip') return 'not a file a snapshot holds (hooks, alternates, locks and temporaries are never restored)';
  if (path === '.git' || path.startsWith('.git/')) return 'nested .git';
  return null;
}

/** Validate a parsed manifest beyond its shape: names, paths, keys, duplicates. Throws BackupError naming the first problem. */
export function assertManifestSound(manifest: Manifest, where: string): void {
  const fail = (problem: string): never => {
    throw new BackupError(`${where}: manifest refused: ${problem}`);
  };
  const [owner = '', repo = '', extra] = manifest.repository.split('/');
  if (extra !== undefined || !isValidOwner(owner) || !isValidRepoName(repo)) fail(`invalid repository ${JSON.stringify(manifest.repository)}`);
  if (!isSnapshotName(manifest.name)) fail(`invalid snapshot name ${JSON.stringify(manifest.name)}`);
  const seen = new Set<string>();
  let bytes = 0;
  let storedBytes = 0;
  for (const file of manifest.files) {
    const reason = unsafeRepoPathReason(file.path);
    if (reason) fail(`${JSON.stringify(file.path)}: ${reason}`);
    if (seen.has(file.path)) fail(`${JSON.stringify(file.path)} listed twice`);
    seen.add(file.path);
    if (file.key !== objectKey(file.sha256)) fail(`${file.path}: key ${JSON.stringify(file.key)} does not match its sha256`);
    bytes += file.size;
    storedBytes += file.storedSize;
  }
  if (!seen.has(METADATA_FILE)) fail(`no ${METADATA_FILE}`);
  if (manifest.totals.files !== manifest.files.length || manifest.totals.bytes !== bytes || manifest.totals.storedBytes !== storedBytes) {
    fail('totals do not add up');
  }
}

export function serializeManifest(manifest: Manifest): Buffer {
  const parsed = manifestSchema.parse(manifest);
  assertManifestSound(parsed, `manifest ${manifest.repository} ${manifest.name}`);
  return Buffer.from(`${JSON.stringify(parsed, null, 2)}\n`);
}

/** Parse and check a manifest read from the store; `where` names it in errors (its key). */
export function parseManifest(bytes: Buffer, where: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new BackupError(`${where}: manifest is not valid JSON: ${(error as Error).message}`);
  }
  if (data && typeof data === 'object' && 'format' in data && data.format === MANIFEST_FORMAT && 'version' in data && data.version !== MANIFEST_VERSION) {
    throw new BackupError(`${where}: manifest version ${String(data.version)} is not supported by this tool (version ${MANIFEST_VERSION}); upgrade github-private-backup`);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BackupError(`${where}: manifest is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  assertManifestSound(parsed.data, where);
  return parsed.data;
}
