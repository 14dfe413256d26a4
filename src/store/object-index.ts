// A snapshot's object index: the keys and stored sizes of the objects its manifest names, in clear even in an
// encrypted store (docs/STORE_FORMAT.md "Object index"). It tells the backup side, which holds only the public key,
// what `store verify` checks and what `store prune` must keep, without reading a manifest. Every key and size in
// it is one a listing shows anyway.
import { z } from 'zod';
import { BackupError } from '../errors.ts';
import { MANIFEST_SUFFIX, manifestPrefix, objectKeySha256, parseManifestKey, type ManifestKeyParts } from './format.ts';
import type { Store } from './store.ts';

export const OBJECT_INDEX_FORMAT = 'github-private-backup-object-index';
export const OBJECT_INDEX_VERSION = 1;
const SUFFIX = '.objects.json';
/** Far above any real index (a snapshot has a few hundred files); a hostile one stops here. */
const MAX_INDEX_BYTES = 16 * 1024 * 1024;

const objectIndexSchema = z
  .object({
    format: z.literal(OBJECT_INDEX_FORMAT),
    version: z.literal(OBJECT_INDEX_VERSION),
    repository: z.string(),
    name: z.string(),
    /** Object key -> bytes as stored. */
    objects: z.record(z.string(), z.number().int().nonnegative()),
  })
  .strict();

export type ObjectIndex = z.infer<typeof objectIndexSchema>;

/** Beside the manifest: snapshots/<owner>/<repo>/<snapshot>.objects.json. */
export function objectIndexKey(repository: string, snapshot: string): string {
  return `${manifestPrefix(repository)}${snapshot}${SUFFIX}`;
}

/** True for a key an object index lives under: such keys are never encrypted. */
export function isObjectIndexKey(key: string): boolean {
  return key.startsWith('snapshots/') && key.endsWith(SUFFIX);
}

/** Repository and snapshot an index key belongs to, or null for any other key (stray uploads are ignored). */
export function parseObjectIndexKey(key: string): ManifestKeyParts | null {
  return isObjectIndexKey(key) ? parseManifestKey(`${key.slice(0, -SUFFIX.length)}${MANIFEST_SUFFIX}`) : null;
}

export function serializeObjectIndex(index: ObjectIndex): Buffer {
  const sorted = Object.fromEntries(Object.entries(index.objects).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return Buffer.from(`${JSON.stringify(objectIndexSchema.parse({ ...index, objects: sorted }), null, 1)}\n`);
}

/** Parse and check an index read from the store: it must describe `repository` `snapshot` and name only object keys. */
export function parseObjectIndex(bytes: Buffer, where: string, expected: { repository: string; snapshot: string }): ObjectIndex {
  if (bytes.length > MAX_INDEX_BYTES) throw new BackupError(`${where}: object index larger than ${MAX_INDEX_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new BackupError(`${where}: object index is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = objectIndexSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BackupError(`${where}: object index is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  if (parsed.data.repository !== expected.repository || parsed.data.name !== expected.snapshot) {
    throw new BackupError(`${where}: object index describes ${parsed.data.repository} ${parsed.data.name}, not ${expected.repository} ${expected.snapshot}`);
  }
  const stray = Object.keys(parsed.data.objects).find((key) => objectKeySha256(key) === null);
  if (stray !== undefined) throw new BackupError(`${where}: object index names ${JSON.stringify(stray.slice(0, 80))}, which is not an object key`);
  return parsed.data;
}

/** Download and check the object index of one stored snapshot. */
export async function readObjectIndex(store: Store, repository: string, snapshot: string): Promise<ObjectIndex> {
  const key = objectIndexKey(repository, snapshot);
  return parseObjectIndex(await store.get(key), `${store.location}/${key}`, { repository, snapshot });
}
