// Shared set-up for the store format tests: a real upstream, a real backup root with snapshots taken by the engine,
// and a directory store in a temp dir.
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { walkFiles } from '../../src/fsutil.ts';
import type { SnapshotMetadata } from '../../src/metadata.ts';
import { METADATA_FILE } from '../../src/snapshot-files.ts';
import { isStoredFile, type Manifest, type ManifestFile, type StoredManifestFile } from '../../src/store/manifest.ts';
import { renderSnapshotJson, sha256Hex } from '../../src/store/rebuilt-files.ts';
import { createBackup, createUpstream, fakeClock, makeTempDir, okValue, type TestBackup, type Upstream } from './git-fixtures.ts';
import { TestDirStore } from './dir-store.ts';

export interface StoreScenario {
  upstream: Upstream;
  backup: TestBackup;
  store: TestDirStore;
  clock: ReturnType<typeof fakeClock>;
  /** Sync and return the new snapshot's directory (a commit first when `commit` names one). */
  syncSnapshot(commit?: string): Promise<string>;
  cleanup(): void;
}

export function storeScenario(options: { owner?: string; name?: string } = {}): StoreScenario {
  const upstream = createUpstream(options);
  const clock = fakeClock();
  const backup = createBackup([upstream], {}, clock.now);
  const storeDir = makeTempDir('gpb-store-');
  const store = new TestDirStore(storeDir);
  return {
    upstream,
    backup,
    store,
    clock,
    async syncSnapshot(commit) {
      if (commit) {
        upstream.commit(commit, `${commit.replace(/\W+/g, '-')}.txt`);
        upstream.push('main');
      }
      const sync = okValue(await backup.engineWith({}, clock.now).sync());
      if (!sync.snapshot) throw new Error('sync took no snapshot');
      return sync.snapshot.path;
    },
    cleanup() {
      upstream.cleanup();
      rmSync(join(backup.root, '..'), { recursive: true, force: true });
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** Every file of a directory with its sha256 and size (modes left out: a pulled repository is writable). */
export async function contentFingerprint(dir: string): Promise<Record<string, string>> {
  const files = await walkFiles(dir);
  return Object.fromEntries(files.map((f) => [f.rel, `${createHash('sha256').update(readFileSync(f.abs)).digest('hex')} ${f.size}`]));
}

/** Replace a stored object's bytes behind the store's back (the local store writes its files read-only). */
export function overwrite(path: string, bytes: Buffer): void {
  chmodSync(path, 0o644);
  writeFileSync(path, bytes);
}

/**
 * A copy of `manifest` under another name with some stored files replaced, made self-consistent the way only a
 * writer could (its snapshot.json, carried in the manifest, lists the replaced files): a hostile or buggy writer.
 */
export function forgeManifest(manifest: Manifest, name: string, replace: (file: StoredManifestFile) => StoredManifestFile): Manifest {
  return forgeFiles(manifest, name, manifest.files.map((f) => (isStoredFile(f) ? replace(f) : f)));
}

/** A copy of `manifest` under another name listing `files`, its snapshot.json and totals made to agree with them. */
export function forgeFiles(manifest: Manifest, name: string, files: ManifestFile[]): Manifest {
  const recorded = manifest.snapshot as SnapshotMetadata;
  const snapshot = { ...recorded, name, files: Object.fromEntries(files.filter((f) => f.path !== METADATA_FILE).map((f) => [f.path, { sha256: f.sha256, size: f.size }])) };
  const rendered = renderSnapshotJson(snapshot);
  const withMetadata = files.map((f) => (f.path === METADATA_FILE ? { path: f.path, size: rendered.length, sha256: sha256Hex(rendered), rebuild: 'snapshot-json' as const } : f));
  return {
    ...manifest,
    name,
    snapshot,
    files: withMetadata,
    totals: {
      files: withMetadata.length,
      bytes: withMetadata.reduce((n, f) => n + f.size, 0),
      storedBytes: withMetadata.reduce((n, f) => n + (isStoredFile(f) ? f.storedSize : 0), 0),
    },
  };
}
