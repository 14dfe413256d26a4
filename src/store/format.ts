// The store's key layout and its format-version marker (docs/STORE_FORMAT.md). Pure apart from
// ensureStoreFormat, which reads and writes the marker through a Store.
import { BackupError } from '../errors.ts';
import { isSnapshotName, isValidOwner, isValidRepoName } from '../naming.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Store } from './store.ts';

/**
 * Readers refuse a store that holds a marker with another major version; minor versions only add. Version 2
 * (docs/STORE_FORMAT.md "Versions"): gzip-compressed manifests under .json.gz that carry snapshot.json and packed-refs.
 */
export const STORE_FORMAT_MAJOR = 2;
/**
 * Minor 1 adds object indexes beside the manifests of encrypted stores (docs/STORE_FORMAT.md "Object index"); minor 2
 * manifests of version 3, whose pack indexes are rebuilt from their packs instead of stored ("Pack indexes"); minor 3
 * manifests of version 4, which derive the metadata repository's pack indexes too.
 */
export const STORE_FORMAT_MINOR = 3;

// The major version is in the marker's key, not only in its body: with an encrypted store the backup side holds
// only the public key and cannot read a body, but it can always list keys.
const MARKER_PREFIX = 'store-format-v';
const MARKER_RE = /^store-format-v(\d+)\.json$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const OBJECT_KEY_RE = /^objects\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export const OBJECTS_PREFIX = 'objects/';
export const SNAPSHOTS_PREFIX = 'snapshots/';
export const LOCKS_PREFIX = 'locks/';

export function formatMarkerKey(major = STORE_FORMAT_MAJOR): string {
  return `${MARKER_PREFIX}${major}.json`;
}

/** Content-addressed: the sha256 of the file's plaintext bytes, fanned out by its first two hex digits. */
export function objectKey(sha256: string): string {
  if (!SHA256_RE.test(sha256)) throw new BackupError(`not a sha256: ${JSON.stringify(sha256)}`);
  return `objects/${sha256.slice(0, 2)}/${sha256}`;
}

/** The sha256 an object key names, or null for anything that is not an object key. */
export function objectKeySha256(key: string): string | null {
  const m = OBJECT_KEY_RE.exec(key);
  return m && m[2]!.startsWith(m[1]!) ? m[2]! : null;
}

function splitRepo(repository: string): { owner: string; repo: string } {
  const slash = repository.indexOf('/');
  const owner = repository.slice(0, slash);
  const repo = repository.slice(slash + 1);
  if (slash < 0 || !isValidOwner(owner) || !isValidRepoName(repo)) {
    throw new BackupError(`invalid repository ${JSON.stringify(repository)} for the store: expected owner/name`);
  }
  return { owner, repo };
}

/** Where one repository's manifests live (with the trailing slash, so acme/w never lists acme/w2). */
export function manifestPrefix(repository: string): string {
  const { owner, repo } = splitRepo(repository);
  return `${SNAPSHOTS_PREFIX}${owner}/${repo}/`;
}

/** Manifests are gzip-compressed JSON (docs/STORE_FORMAT.md "Manifest"). */
export const MANIFEST_SUFFIX = '.json.gz';

export function manifestKey(repository: string, snapshot: string): string {
  if (!isSnapshotName(snapshot)) throw new BackupError(`invalid snapshot name ${JSON.stringify(snapshot)} for the store`);
  return `${manifestPrefix(repository)}${snapshot}${MANIFEST_SUFFIX}`;
}

export interface ManifestKeyParts {
  repository: string;
  snapshot: string;
}

/** Repository and snapshot a manifest key names, or null for any other key (stray uploads are ignored). */
export function parseManifestKey(key: string): ManifestKeyParts | null {
  const m = /^snapshots\/([^/]+)\/([^/]+)\/([^/]+)\.json\.gz$/.exec(key);
  if (!m) return null;
  const [, owner, repo, snapshot] = m as unknown as [string, string, string, string];
  if (!isValidOwner(owner) || !isValidRepoName(repo) || !isSnapshotName(snapshot)) return null;
  return { repository: `${owner}/${repo}`, snapshot };
}

export interface StoreFormatMarker {
  format: 'github-private-backup-store';
  major: number;
  minor: number;
  createdAt: string;
  createdBy: string;
  description: string;
}

/** Major versions whose markers the store holds. */
async function markerMajors(store: Store): Promise<number[]> {
  const majors: number[] = [];
  for await (const object of store.list(MARKER_PREFIX)) {
    const m = MARKER_RE.exec(object.key);
    if (m) majors.push(Number(m[1]));
  }
  return majors.sort((a, b) => a - b);
}

/**
 * Check the store speaks our format before touching it: one listing. A store holding another major version is
 * refused (a newer tool wrote it). With `create`, an empty store gets its marker (writers call it with create).
 */
export async function ensureStoreFormat(store: Store, options: { create: boolean; now?: Date }): Promise<void> {
  const majors = await markerMajors(store);
  const foreign = majors.filter((m) => m !== STORE_FORMAT_MAJOR);
  if (foreign.length) {
    const older = foreign.every((m) => m < STORE_FORMAT_MAJOR);
    throw new BackupError(
      `${store.location} holds store format version ${foreign.join(', ')}; this tool reads and writes version ${STORE_FORMAT_MAJOR} only ` +
        (older
          ? '(an earlier github-private-backup wrote it: restore from it with that version, and point store.url at a new prefix for this one; see docs/STORE_FORMAT.md "Versions")'
          : '(upgrade github-private-backup, see docs/STORE_FORMAT.md)'),
    );
  }
  if (majors.includes(STORE_FORMAT_MAJOR)) return;
  if (!options.create) {
    throw new BackupError(`${store.location} is not a github-private-backup store (no ${formatMarkerKey()}); push a snapshot to it first`);
  }
  const marker: StoreFormatMarker = {
    format: 'github-private-backup-store',
    major: STORE_FORMAT_MAJOR,
    minor: STORE_FORMAT_MINOR,
    createdAt: (options.now ?? new Date()).toISOString(),
    createdBy: `github-private-backup ${TOOL_VERSION}`,
    description: 'Snapshots of git repositories: objects/<sha256[0:2]>/<sha256> hold file contents, snapshots/<owner>/<repo>/<snapshot>.json.gz the manifests (gzip-compressed JSON). See docs/STORE_FORMAT.md.',
  };
  // Written once; a concurrent first push writing the same marker is harmless (created: false).
  await store.putOnce(formatMarkerKey(), Buffer.from(`${JSON.stringify(marker, null, 2)}\n`));
}
