// push: copy local snapshots into the store (docs/STORE_FORMAT.md "Push"). Objects first, each written once under
// its content key and skipped when the store already holds it; the manifest last, as the commit point. A push
// killed at any moment leaves no manifest, and the next one uploads only what is still missing.
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { AbortedError, BackupError, errorMessage } from '../errors.ts';
import { createGitCommandManager, type GitCommandManager } from '../git/git.ts';
import type { Logger } from '../log.ts';
import { Redactor } from '../redact.ts';
import { readMetadata, type SnapshotMetadata } from '../metadata.ts';
import { METADATA_FILE } from '../snapshot-files.ts';
import { TOOL_VERSION } from '../version.ts';
import { listStoredSnapshots } from './catalog.ts';
import { ensureStoreFormat, manifestKey, objectKey, OBJECTS_PREFIX } from './format.ts';
import { isStoredFile, MANIFEST_FORMAT, manifestVersionFor, PACKED_REFS_FILE, serializeManifest, type Manifest, type ManifestFile } from './manifest.ts';
import { OBJECT_INDEX_FORMAT, OBJECT_INDEX_VERSION, objectIndexKey, serializeObjectIndex } from './object-index.ts';
import { derivableByPack, isPackPath, rebuildPackIndex } from './pack-index.ts';
import { packedRefsSpec, renderSnapshotJson, sha256Hex, type PackedRefsSpec } from './rebuilt-files.ts';
import type { ObjectRetention, PutBody, Store } from './store.ts';
import { SharedLease } from './store-lock.ts';
import { forEachLimit, Sha256Check } from './transfer.ts';

const DAY_MS = 86_400_000;

/**
 * Packs of at least this many bytes keep their .idx and .rev as objects instead of having them derived
 * (docs/STORE_FORMAT.md "Pack indexes"): rebuilding an index costs git index-pack some 50-80 ms of CPU per MiB of
 * an object-rich pack, where the index is about 5% of the pack to download (docs/BENCHMARKS.md "Restore from the
 * store"). Daily packs stay far below it, so a day still uploads only its pack; the large packs of a first push or
 * a repack cost 5% more once, and a restore never waits minutes for git to index them.
 */
export const DERIVE_INDEX_BELOW_BYTES = 16 * 2 ** 20;

export interface ObjectLockSettings {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  days: number;
}

export interface PushOptions {
  /** Object Lock: every object and manifest written gets retention until now + days. */
  objectLock?: ObjectLockSettings;
  /** Object Lock dates, pushedAt and the format marker's date. */
  clock?: () => Date;
  logger?: Logger;
  signal?: AbortSignal;
  /** Uploads in flight at once (default 4). */
  concurrency?: number;
  /**
   * Write each snapshot's object index (src/store/object-index.ts) just before its manifest: on for an encrypted
   * store, so the side without the identity can verify and prune it.
   */
  objectIndex?: boolean;
  /**
   * The push's shared lease (src/store/store-lock.ts): lease time, how long to wait while a prune runs, and after
   * how long without a push the session lets it go (default 2 minutes). Leases use real time unless `clock` is set:
   * they are judged against the store's clock.
   */
  lease?: { leaseMs?: number; waitMs?: number; pollMs?: number; clock?: () => Date; idleMs?: number };
  /** Runs git index-pack, which proves a new pack's indexes derive from it (default: one of its own). */
  git?: GitCommandManager;
  /** Packs of at least this size have their indexes uploaded, not derived (default DERIVE_INDEX_BELOW_BYTES). */
  deriveIndexBelowBytes?: number;
}

interface HeldView {
  lease: SharedLease;
  /** key -> bytes as stored, for every object known to be in the store: one listing, then our own writes. */
  present: Map<string, number>;
}

export interface PushSnapshotResult {
  repository: string;
  snapshot: string;
  manifestKey: string;
  /** The manifest was already there: nothing was uploaded. */
  alreadyInStore: boolean;
  /** Objects this push wrote, and their bytes as stored. */
  uploadedObjects: number;
  uploadedBytes: number;
  /** Objects the store already held (earlier snapshots, other repositories, an interrupted push). */
  reusedObjects: number;
  reusedBytes: number;
  /** Pack indexes (.idx, .rev) the manifest records as derived from their packs instead of as objects. */
  derivedFiles: number;
  /** Size of the snapshot's files (plaintext). */
  totalBytes: number;
}

/** One file of a local snapshot as it will be pushed. */
interface LocalFile {
  path: string;
  abs: string;
  size: number;
  sha256: string;
  /** Set when the manifest carries the file's bytes (src/store/rebuilt-files.ts): it is not uploaded. */
  rebuild?: 'snapshot-json' | 'packed-refs';
  /** Set for a pack's .idx or .rev that pulls rebuild from this pack (src/store/pack-index.ts): it is not uploaded. */
  derivedFrom?: string;
}

/** What the manifest carries instead of objects: snapshot.json as JSON, and how packed-refs renders from its refs. */
interface Carried {
  snapshot: unknown;
  packedRefs: PackedRefsSpec | null;
}

/**
 * snapshot.json and packed-refs go into the manifest when they render back byte-exact (the tool's own
 * snapshot.json always does, and packed-refs after `pack-refs --all`); otherwise they are uploaded as objects.
 */
async function carriedFiles(snapshotDir: string, metadata: SnapshotMetadata, files: LocalFile[]): Promise<Carried> {
  const metadataFile = files.find((f) => f.path === METADATA_FILE)!;
  const metadataBytes = await readFile(metadataFile.abs);
  const snapshot: unknown = JSON.parse(metadataBytes.toString('utf8'));
  if (renderSnapshotJson(snapshot).equals(metadataBytes)) metadataFile.rebuild = 'snapshot-json';
  const packed = files.find((f) => f.path === PACKED_REFS_FILE);
  if (!packed) return { snapshot, packedRefs: null };
  const bytes = await readFile(packed.abs);
  if (bytes.length !== packed.size || sha256Hex(bytes) !== packed.sha256) {
    throw new BackupError(`${snapshotDir}: ${PACKED_REFS_FILE} does not match the checksum ${METADATA_FILE} recorded; run "backup-manager verify"`);
  }
  const spec = packedRefsSpec(bytes, metadata.refs);
  if (spec) packed.rebuild = 'packed-refs';
  return { snapshot, packedRefs: spec };
}

/**
 * The files a snapshot consists of: exactly those snapshot.json lists (with the checksums it recorded, so linked
 * packs are not hashed again), plus snapshot.json itself. A missing or resized file fails the push: run verify.
 */
async function snapshotFiles(snapshotDir: string, metadata: SnapshotMetadata): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const [path, recorded] of Object.entries(metadata.files)) {
    const abs = join(snapshotDir, path);
    let size: number;
    try {
      const st = await stat(abs);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (error) {
      throw new BackupError(`${snapshotDir}: ${path} is listed in ${METADATA_FILE} but cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run "backup-manager verify"`);
    }
    if (size !== recorded.size) {
      throw new BackupError(`${snapshotDir}: ${path} is ${size} bytes, ${METADATA_FILE} recorded ${recorded.size}; run "backup-manager verify"`);
    }
    files.push({ path, abs, size, sha256: recorded.sha256 });
  }
  const metadataAbs = join(snapshotDir, METADATA_FILE);
  const metadataBytes = await readFile(metadataAbs);
  files.push({ path: METADATA_FILE, abs: metadataAbs, size: metadataBytes.length, sha256: sha256Hex(metadataBytes) });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A file read from disk whose bytes must still hash to what the snapshot recorded when the store consumes them. */
function checkedBody(file: LocalFile, where: string): PutBody {
  return {
    size: file.size,
    open: () => pipeline(createReadStream(file.abs), new Sha256Check(file, `${where}/${file.path}`), () => undefined),
  };
}

/**
 * One push run against one store: checks the format marker once, lists the store's objects at most once, and
 * remembers what it wrote, so pushing many snapshots and repositories costs few requests (docs/STORE_FORMAT.md).
 */
export class PushSession {
  private format: Promise<void> | null = null;
  /**
   * The session's shared lease and what it saw of objects/ under it, taken before the first upload so no prune
   * runs while the session relies on that view. Dropped together by close(), or once the session has been idle
   * for `lease.idleMs`, so a long-lived process (the daemon) never keeps prune out.
   */
  private held: Promise<HeldView> | null = null;
  private active = 0;
  private lastUse = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly clock: () => Date;
  private readonly concurrency: number;
  private git: GitCommandManager | null = null;

  readonly store: Store;
  private readonly options: PushOptions;

  constructor(store: Store, options: PushOptions = {}) {
    this.store = store;
    this.options = options;
    this.clock = options.clock ?? (() => new Date());
    this.concurrency = options.concurrency ?? 4;
  }

  private retention(): ObjectRetention | undefined {
    const lock = this.options.objectLock;
    return lock ? { mode: lock.mode, until: new Date(this.clock().getTime() + lock.days * DAY_MS) } : undefined;
  }

  private throwIfAborted(): void {
    if (this.options.signal?.aborted) throw new AbortedError('push stopped on request; no manifest was written, the next push resumes');
  }

  /** Once per session, shared by concurrent callers (repositories are pushed in parallel). */
  private ensureFormat(): Promise<void> {
    this.format ??= ensureStoreFormat(this.store, { create: true, now: this.clock() }).catch((error: unknown) => {
      this.format = null;
      throw error;
    });
    return this.format;
  }

  /**
   * The lease, then everything under objects/ listed once (cheaper than one request per file as soon as a
   * snapshot has a few). Concurrent callers share one lease and one listing.
   */
  private hold(): Promise<HeldView> {
    this.held ??= (async () => {
      const lease = await SharedLease.acquire(this.store, { purpose: 'push', ...this.options.lease });
      try {
        const present = new Map<string, number>();
        for await (const object of this.store.list(OBJECTS_PREFIX)) present.set(object.key, object.size);
        this.watchIdle();
        return { lease, present };
      } catch (error) {
        await lease.release().catch(() => undefined);
        throw error;
      }
    })().catch((error: unknown) => {
      this.held = null;
      throw error;
    });
    return this.held;
  }

  private watchIdle(): void {
    const idleMs = this.options.lease?.idleMs ?? 120_000;
    this.idleTimer ??= setInterval(() => {
      if (this.active === 0 && Date.now() - this.lastUse > idleMs) void this.close().catch(() => undefined);
    }, Math.max(10, Math.floor(idleMs / 2)));
    this.idleTimer.unref();
  }

  /**
   * Mark the .idx and .rev files pulls can rebuild from their packs (docs/STORE_FORMAT.md "Pack indexes"); returns
   * how many. Per pack: one whose index the store already holds keeps referencing it; a pack of
   * `deriveIndexBelowBytes` or more has its index uploaded (also when an earlier push derived it: from then on,
   * pulls download it instead of rebuilding it); a smaller one the store holds without its index had it derived
   * when it was uploaded (an index that does not derive is uploaded before its pack); a new small pack is indexed
   * here with the same git index-pack a pull runs, and only files that come out byte for byte are derived.
   */
  private async deriveIndexes(files: LocalFile[], present: ReadonlyMap<string, number>, where: string): Promise<number> {
    const byPath = new Map(files.map((f) => [f.path, f]));
    const below = this.options.deriveIndexBelowBytes ?? DERIVE_INDEX_BELOW_BYTES;
    let derived = 0;
    for (const [packPath, paths] of derivableByPack(files.map((f) => f.path))) {
      const pack = byPath.get(packPath)!;
      const companions = paths.map((p) => byPath.get(p)!);
      if (pack.size >= below || companions.some((f) => present.has(objectKey(f.sha256))) || !companions.some((f) => f.path.endsWith('.idx'))) continue;
      if (!present.has(objectKey(pack.sha256)) && !(await this.rebuildsExactly(pack, companions, where))) continue;
      for (const file of companions) file.derivedFrom = packPath;
      derived += companions.length;
    }
    return derived;
  }

  /** Whether git index-pack, run on the local pack, writes exactly the snapshot's index files (their recorded sha256). */
  private async rebuildsExactly(pack: LocalFile, companions: LocalFile[], where: string): Promise<boolean> {
    this.throwIfAborted();
    this.git ??= this.options.git ?? createGitCommandManager({ redactor: new Redactor() });
    const out = await mkdtemp(join(tmpdir(), 'gpb-push-index-'));
    try {
      await rebuildPackIndex(this.git, pack.abs, companions, out, where);
      return true;
    } catch (error) {
      this.options.logger?.log('info', `store push ${where}: ${pack.path}'s index is uploaded: ${errorMessage(error)}`);
      return false;
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }

  /** Release the session's lease (when it holds one). Call once the run's pushes are done, also after a failure. */
  async close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    const held = this.held;
    this.held = null;
    if (held) await (await held.catch(() => null))?.lease.release();
  }

  /** Names of `repository`'s snapshots the store holds (one listing). */
  async storedNames(repository: string): Promise<Set<string>> {
    await this.ensureFormat();
    return new Set((await listStoredSnapshots(this.store, repository)).map((s) => s.snapshot));
  }

  /**
   * Push every snapshot directory given that the store does not hold yet, oldest first. On a day with nothing new
   * this is one listing of the repository's manifests (plus the session's one format check).
   */
  async pushRepository(repository: string, snapshotDirs: readonly string[]): Promise<PushSnapshotResult[]> {
    const stored = await this.storedNames(repository);
    const results: PushSnapshotResult[] = [];
    for (const dir of [...snapshotDirs].sort()) {
      const name = dir.replace(/\/+$/, '').split('/').at(-1)!;
      if (stored.has(name)) continue;
      results.push(await this.pushSnapshot(dir, { expectRepository: repository, knownAbsent: true }));
    }
    return results;
  }

  /**
   * Push one snapshot directory. Idempotent: a snapshot already in the store costs one HEAD of its manifest, unless
   * the caller has just listed the repository's manifests (`knownAbsent`).
   */
  async pushSnapshot(snapshotDir: string, check: { expectRepository?: string; knownAbsent?: boolean } = {}): Promise<PushSnapshotResult> {
    this.active++;
    try {
      return await this.pushOne(snapshotDir, check);
    } finally {
      this.active--;
      this.lastUse = Date.now();
    }
  }

  private async pushOne(snapshotDir: string, check: { expectRepository?: string; knownAbsent?: boolean }): Promise<PushSnapshotResult> {
    this.throwIfAborted();
    await this.ensureFormat();
    const metadata = await readMetadata(snapshotDir);
    if (check.expectRepository && metadata.repository !== check.expectRepository) {
      throw new BackupError(`${snapshotDir} is a snapshot of ${metadata.repository}, not ${check.expectRepository}`);
    }
    const key = manifestKey(metadata.repository, metadata.name);
    const result: PushSnapshotResult = {
      repository: metadata.repository,
      snapshot: metadata.name,
      manifestKey: key,
      alreadyInStore: false,
      uploadedObjects: 0,
      uploadedBytes: 0,
      reusedObjects: 0,
      reusedBytes: 0,
      derivedFiles: 0,
      totalBytes: 0,
    };
    if (!check.knownAbsent && (await this.store.head(key))) return { ...result, alreadyInStore: true };

    const files = await snapshotFiles(snapshotDir, metadata);
    const carried = await carriedFiles(snapshotDir, metadata, files);
    const held = await this.hold();
    const { present } = held;
    const where = `${metadata.repository} ${metadata.name}`;
    result.derivedFiles = await this.deriveIndexes(files, present, where);
    const missing: LocalFile[] = [];
    // Two files with the same content (an empty file, say) are one object: upload it once.
    const queued = new Set<string>();
    for (const file of files) {
      result.totalBytes += file.size;
      if (file.rebuild || file.derivedFrom) continue;
      const k = objectKey(file.sha256);
      if (present.has(k)) {
        result.reusedObjects++;
        result.reusedBytes += present.get(k)!;
      } else if (!queued.has(k)) {
        queued.add(k);
        missing.push(file);
      }
    }
    // Packs last: a pack in the store whose index is not is one whose index derives from it (deriveIndexes).
    const upload = (batch: LocalFile[]) => forEachLimit(batch, this.concurrency, async (file) => {
      this.throwIfAborted();
      const k = objectKey(file.sha256);
      // The listing did not show it: no need to ask again before writing (docs/STORE_BACKENDS.md "Write once").
      const put = await this.store.putOnce(k, checkedBody(file, where), { retention: this.retention(), expectAbsent: true });
      present.set(k, put.storedSize);
      if (put.created) {
        result.uploadedObjects++;
        result.uploadedBytes += put.storedSize;
      } else {
        result.reusedObjects++;
        result.reusedBytes += put.storedSize;
      }
    });
    await upload(missing.filter((f) => !isPackPath(f.path)));
    await upload(missing.filter((f) => isPackPath(f.path)));
    const entries: ManifestFile[] = files.map((file) => {
      const { path, size, sha256 } = file;
      if (file.rebuild) return { path, size, sha256, rebuild: file.rebuild };
      if (file.derivedFrom) return { path, size, sha256, derivedFrom: file.derivedFrom };
      const k = objectKey(sha256);
      return { path, size, sha256, key: k, storedSize: present.get(k)! };
    });
    this.throwIfAborted();

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: manifestVersionFor(entries),
      tool: { name: 'github-private-backup', version: TOOL_VERSION },
      repository: metadata.repository,
      name: metadata.name,
      createdAt: metadata.createdAt,
      pushedAt: this.clock().toISOString(),
      snapshot: carried.snapshot,
      packedRefs: carried.packedRefs,
      files: entries,
      totals: {
        files: entries.length,
        bytes: entries.reduce((n, f) => n + f.size, 0),
        storedBytes: entries.reduce((n, f) => n + ('storedSize' in f ? f.storedSize : 0), 0),
      },
    };
    if (this.options.objectIndex) {
      const objects = Object.fromEntries(entries.filter(isStoredFile).map((f) => [f.key, f.storedSize]));
      const index = serializeObjectIndex({ format: OBJECT_INDEX_FORMAT, version: OBJECT_INDEX_VERSION, repository: metadata.repository, name: metadata.name, objects });
      const put = await this.store.putOnce(objectIndexKey(metadata.repository, metadata.name), index, { retention: this.retention(), expectAbsent: check.knownAbsent });
      if (put.created) result.uploadedBytes += put.storedSize;
    }
    // The commit point: only now is the snapshot in the store. Our lease must still hold, or a prune may have
    // removed an object we counted as present.
    held.lease.assertHeld();
    const put = await this.store.putOnce(key, serializeManifest(manifest), { retention: this.retention(), expectAbsent: check.knownAbsent });
    if (!put.created) return { ...result, alreadyInStore: true };
    result.uploadedBytes += put.storedSize;
    this.options.logger?.log('info', `store push ${where}: ${result.uploadedObjects} object(s) uploaded, ${result.reusedObjects} already in the store, ${result.derivedFiles} pack index(es) derived`, {
      uploadedBytes: result.uploadedBytes,
      store: this.store.location,
    });
    return result;
  }
}

/** Push one snapshot directory in a session of its own. */
export async function pushSnapshot(store: Store, snapshotDir: string, options: PushOptions = {}): Promise<PushSnapshotResult> {
  const session = new PushSession(store, options);
  try {
    return await session.pushSnapshot(snapshotDir);
  } finally {
    await session.close();
  }
}
