// A snapshot's manifest in the store: what the snapshot is and every file it needs (docs/STORE_FORMAT.md).
// Written last by a push, so a snapshot is in the store if and only if its manifest is. Stored gzip-compressed.
// Pure.
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { BackupError } from '../errors.ts';
import { MAX_METADATA_BYTES, snapshotMetadataSchema } from '../metadata.ts';
import { isSnapshotName, isValidOwner, isValidRepoName } from '../naming.ts';
import { isMetadataPath, METADATA_FILE, snapshotFileTreatment } from '../snapshot-files.ts';
import { objectKey } from './format.ts';
import { packOfDerivable } from './pack-index.ts';
import { renderPackedRefs, renderSnapshotJson, sha256Hex } from './rebuilt-files.ts';

export const MANIFEST_FORMAT = 'github-private-backup-snapshot-manifest';
/** Version 3 adds pack indexes derived from their packs (docs/STORE_FORMAT.md "Pack indexes"); 2 is still read. */
export const MANIFEST_VERSION = 3 as const;
/**
 * Version 4 derives the indexes of the metadata repository's packs too. Only a manifest that does is written as 4,
 * so a reader of versions 2 and 3 reads every other and says "upgrade" for these.
 */
export const METADATA_DERIVED_VERSION = 4 as const;
const READABLE_VERSIONS: readonly number[] = [2, MANIFEST_VERSION, METADATA_DERIVED_VERSION];
/** The largest manifest we uncompress: snapshot.json's own limit, twice over for the file list. */
export const MAX_MANIFEST_BYTES = 2 * MAX_METADATA_BYTES;

export const PACKED_REFS_FILE = 'packed-refs';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const size = z.number().int().nonnegative();

const storedFileSchema = z
  .object({
    /** Path inside the bare repository, forward slashes (checked by unsafeRepoPathReason before any use). */
    path: z.string(),
    size,
    sha256,
    /** Where the bytes are: objects/<sha256[0:2]>/<sha256>. */
    key: z.string(),
    /** Bytes as stored (ciphertext with encryption): what `store verify` checks without downloading. */
    storedSize: size,
  })
  .strict();

/** A file whose bytes the manifest itself carries (src/store/rebuilt-files.ts): no object in the store. */
const rebuiltFileSchema = z
  .object({
    path: z.string(),
    size,
    sha256,
    /** snapshot-json: `snapshot` as JSON; packed-refs: `snapshot.refs` with `packedRefs`. */
    rebuild: z.enum(['snapshot-json', 'packed-refs']),
  })
  .strict();

/** A pack's .idx or .rev that git index-pack rebuilds from the pack at `derivedFrom` (src/store/pack-index.ts): no object. */
const derivedFileSchema = z
  .object({
    path: z.string(),
    size,
    sha256,
    /** The path of the pack it is rebuilt from, a stored file of the same manifest. */
    derivedFrom: z.string(),
  })
  .strict();

const manifestFileSchema = z.union([storedFileSchema, rebuiltFileSchema, derivedFileSchema]);

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.union([z.literal(2), z.literal(MANIFEST_VERSION), z.literal(METADATA_DERIVED_VERSION)]),
    tool: z.object({ name: z.string(), version: z.string() }).strict(),
    repository: z.string(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    pushedAt: z.iso.datetime(),
    /**
     * The snapshot's snapshot.json as JSON, kept as read (key order included) so it renders back byte-exact. Its
     * `refs` are the snapshot's only ref list in the manifest; sourceUrl, head and headRef are in it too.
     */
    snapshot: z.unknown(),
    /** How packed-refs is rebuilt from snapshot.refs, when the manifest carries it (else null). */
    packedRefs: z.object({ header: z.string().nullable(), peeled: z.record(z.string(), z.string().regex(/^[0-9a-f]{40,64}$/)) }).strict().nullable(),
    files: z.array(manifestFileSchema),
    totals: z.object({ files: size, bytes: size, storedBytes: size }).strict(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;
export type StoredManifestFile = z.infer<typeof storedFileSchema>;
export type RebuiltManifestFile = z.infer<typeof rebuiltFileSchema>;
export type DerivedManifestFile = z.infer<typeof derivedFileSchema>;

export const isStoredFile = (file: ManifestFile): file is StoredManifestFile => 'key' in file;
export const isRebuiltFile = (file: ManifestFile): file is RebuiltManifestFile => 'rebuild' in file;
export const isDerivedFile = (file: ManifestFile): file is DerivedManifestFile => 'derivedFrom' in file;

/** The version a manifest listing `files` is written as: the lowest that has every kind of entry it holds. */
export function manifestVersionFor(files: readonly ManifestFile[]): Manifest['version'] {
  return files.some((f) => isDerivedFile(f) && isMetadataPath(f.path)) ? METADATA_DERIVED_VERSION : MANIFEST_VERSION;
}

/** The derived files of a manifest, by the pack they are rebuilt from. */
export function derivedByPack(manifest: Manifest): Map<string, DerivedManifestFile[]> {
  const out = new Map<string, DerivedManifestFile[]>();
  for (const file of manifest.files.filter(isDerivedFile)) out.set(file.derivedFrom, [...(out.get(file.derivedFrom) ?? []), file]);
  return out;
}

/** The files whose bytes are objects in the store (what push uploads, verify checks, prune keeps). */
export const storedFiles = (manifest: Manifest): StoredManifestFile[] => manifest.files.filter(isStoredFile);

/** The snapshot.json a manifest records, validated (assertManifestSound has checked it already for parsed ones). */
export function manifestMetadata(manifest: Manifest): z.infer<typeof snapshotMetadataSchema> {
  return snapshotMetadataSchema.parse(manifest.snapshot);
}

/** The bytes of a file the manifest carries. */
export function rebuiltBytes(manifest: Manifest, file: RebuiltManifestFile): Buffer {
  if (file.rebuild === 'snapshot-json') return renderSnapshotJson(manifest.snapshot);
  if (!manifest.packedRefs) throw new BackupError(`manifest ${manifest.repository} ${manifest.name}: packed-refs is to be rebuilt, but packedRefs is null`);
  return renderPackedRefs(manifestMetadata(manifest).refs, manifest.packedRefs);
}

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
  const snapshot = snapshotMetadataSchema.safeParse(manifest.snapshot);
  if (!snapshot.success) fail(`its snapshot.json is invalid at ${snapshot.error!.issues[0]!.path.join('.') || '(top)'}: ${snapshot.error!.issues[0]!.message}`);
  const recorded = snapshot.data!;
  if (recorded.repository !== manifest.repository || recorded.name !== manifest.name || recorded.createdAt !== manifest.createdAt) {
    fail('its snapshot.json describes another snapshot');
  }
  const seen = new Set<string>();
  const storedPaths = new Set(manifest.files.filter(isStoredFile).map((f) => f.path));
  let bytes = 0;
  let storedBytes = 0;
  for (const file of manifest.files) {
    const reason = unsafeRepoPathReason(file.path);
    if (reason) fail(`${JSON.stringify(file.path)}: ${reason}`);
    if (seen.has(file.path)) fail(`${JSON.stringify(file.path)} listed twice`);
    seen.add(file.path);
    bytes += file.size;
    if (isStoredFile(file)) {
      if (file.key !== objectKey(file.sha256)) fail(`${file.path}: key ${JSON.stringify(file.key)} does not match its sha256`);
      storedBytes += file.storedSize;
      continue;
    }
    if (isDerivedFile(file)) {
      if (manifest.version < 3) fail(`${file.path}: a version-${manifest.version} manifest derives no files`);
      if (manifest.version < METADATA_DERIVED_VERSION && isMetadataPath(file.path)) fail(`${file.path}: a version-${manifest.version} manifest derives no file of the metadata repository`);
      if (packOfDerivable(file.path) !== file.derivedFrom) fail(`${file.path}: only a pack's own .idx or .rev is derived, not one from ${JSON.stringify(file.derivedFrom)}`);
      if (!storedPaths.has(file.derivedFrom)) fail(`${file.path}: the pack it is derived from, ${file.derivedFrom}, is not a stored file of this manifest`);
      continue;
    }
    const expectedPath = file.rebuild === 'snapshot-json' ? METADATA_FILE : PACKED_REFS_FILE;
    if (file.path !== expectedPath) fail(`${file.path}: only ${expectedPath} is rebuilt as ${file.rebuild}`);
    if (file.rebuild === 'packed-refs' && !manifest.packedRefs) fail('packed-refs is to be rebuilt, but packedRefs is null');
    const rebuilt = rebuiltBytes(manifest, file);
    if (rebuilt.length !== file.size || sha256Hex(rebuilt) !== file.sha256) fail(`${file.path}: the bytes it rebuilds to do not match its sha256`);
  }
  if (!seen.has(METADATA_FILE)) fail(`no ${METADATA_FILE}`);
  // git index-pack writes a .rev only with the .idx it belongs to.
  for (const [pack, derived] of derivedByPack(manifest)) {
    if (!derived.some((f) => f.path.endsWith('.idx'))) fail(`${pack}: its .rev is derived, but not its .idx`);
  }
  // The files snapshot.json records are exactly the others, with the same contents.
  const byPath = new Map(manifest.files.map((f) => [f.path, f]));
  for (const [path, file] of Object.entries(recorded.files)) {
    const listed = byPath.get(path);
    if (!listed || listed.sha256 !== file.sha256 || listed.size !== file.size) fail(`${JSON.stringify(path)}: not listed as its snapshot.json records it`);
  }
  if (Object.keys(recorded.files).length + 1 !== manifest.files.length) fail(`lists files its ${METADATA_FILE} does not record`);
  if (manifest.totals.files !== manifest.files.length || manifest.totals.bytes !== bytes || manifest.totals.storedBytes !== storedBytes) {
    fail('totals do not add up');
  }
}

/** The manifest as stored: pretty-printed JSON, gzip-compressed (before any encryption). */
export function serializeManifest(manifest: Manifest): Buffer {
  const parsed = manifestSchema.parse(manifest);
  assertManifestSound(parsed, `manifest ${manifest.repository} ${manifest.name}`);
  return gzipSync(`${JSON.stringify(parsed, null, 2)}\n`, { level: 9 });
}

/** The JSON text of a stored manifest: gzip, uncompressed to at most MAX_MANIFEST_BYTES (a gzip bomb stops there). */
function uncompress(bytes: Buffer, where: string): string {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new BackupError(`${where}: manifest is not gzip-compressed (a manifest of store format 2 is)`);
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_MANIFEST_BYTES }).toString('utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `larger than ${MAX_MANIFEST_BYTES} bytes uncompressed` : (error as Error).message;
    throw new BackupError(`${where}: manifest cannot be uncompressed: ${why}`);
  }
}

/** Parse and check a manifest read from the store; `where` names it in errors (its key). */
export function parseManifest(bytes: Buffer, where: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(uncompress(bytes, where));
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${where}: manifest is not valid JSON: ${(error as Error).message}`);
  }
  if (data && typeof data === 'object' && 'format' in data && data.format === MANIFEST_FORMAT && 'version' in data && !READABLE_VERSIONS.includes(data.version as number)) {
    throw new BackupError(`${where}: manifest version ${String(data.version)} is not supported by this tool (versions ${READABLE_VERSIONS.join(' and ')}); upgrade github-private-backup`);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BackupError(`${where}: manifest is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  assertManifestSound(parsed.data, where);
  return parsed.data;
}
