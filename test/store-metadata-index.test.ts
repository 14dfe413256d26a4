// The metadata repository's pack indexes are derived like the repository's own (docs/STORE_FORMAT.md "Pack
// indexes"): a push leaves out the .idx of a pack `git fast-import` wrote for a capture (the metadata repository's
// real writer, src/github-metadata/commit.ts) and writes the manifest as version 4; a pull rebuilds it byte for byte,
// and a pull as a working repository (which leaves the metadata out) runs no index-pack for it; readers refuse such
// an entry in a manifest of an earlier version.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createGitCommandManager } from '../src/git/git.ts';
import { commitDocuments } from '../src/github-metadata/commit.ts';
import { SNAPSHOT_METADATA_REPO } from '../src/github-metadata/format.ts';
import { readMetadataTree } from '../src/github-metadata/metadata-repo.ts';
import { Redactor } from '../src/redact.ts';
import { readManifest } from '../src/store/catalog.ts';
import { objectKey } from '../src/store/format.ts';
import { isDerivedFile, parseManifest } from '../src/store/manifest.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { pushSnapshot } from '../src/store/push.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { TestDirStore } from './helpers/dir-store.ts';
import { setEnv } from './helpers/env.ts';
import { recordGitCalls } from './helpers/git-calls.ts';
import { createBackup, createUpstream, fakeClock, makeTempDir, okValue, refsOf } from './helpers/git-fixtures.ts';
import { createMetadataRepo, sampleIssue } from './helpers/metadata-repo.ts';
import { contentFingerprint } from './helpers/store-fixtures.ts';

const cleanups = cleanupAfterEach();
const gitManager = createGitCommandManager({ redactor: new Redactor() });
const METADATA_PACK = new RegExp(`^${SNAPSHOT_METADATA_REPO.replace('.', '\\.')}/objects/pack/pack-[0-9a-f]{40}\\.(pack|idx)$`);

/** A backup whose metadata repository holds a pack git fast-import wrote for a capture of 150 issues, synced once. */
async function snapshotWithMetadataPack(): Promise<{ snapshot: string; upstreamBare: string }> {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  const clock = fakeClock();
  const b = createBackup([u], {}, clock.now);
  cleanups.push(() => execFileSync('rm', ['-rf', join(b.root, '..')]));
  const meta = createMetadataRepo(b.root, { owner: 'acme', name: 'widgets' });
  meta.put('issues/1.json', sampleIssue(1, 'First issue', 'the original text'));
  meta.commit('2026-01-01T02:00:00Z', { issues: { state: 'complete', count: 1 } });
  // More than fast-import's unpack limit (100 objects): it writes a pack and its .idx, as a large capture does.
  const documents = new Map(Array.from({ length: 150 }, (_, i) => [`issues/${i + 2}.json`, Buffer.from(`${JSON.stringify(sampleIssue(i + 2, `Issue ${i + 2}`, `text ${i}`), null, 2)}\n`)]));
  await commitDocuments(gitManager, meta.dir, await readMetadataTree(gitManager, meta.dir), documents, 'capture', new Date('2026-01-01T02:00:00Z'));
  const sync = okValue(await b.engineWith({}, clock.now).sync());
  return { snapshot: sync.snapshot!.path, upstreamBare: u.bare };
}

describe('the metadata repository\'s pack indexes', () => {
  it('are derived by a push (manifest version 4), rebuilt byte for byte by a pull, and not rebuilt by a pull that leaves the metadata out', async () => {
    const { snapshot, upstreamBare } = await snapshotWithMetadataPack();
    const storeDir = makeTempDir('gpb-store-');
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const store = new TestDirStore(storeDir);
    const pushed = await pushSnapshot(store, snapshot);
    const manifest = await readManifest(store, 'acme/widgets', pushed.snapshot);
    expect(manifest.version).toBe(4);
    const metadataPacks = manifest.files.filter((f) => METADATA_PACK.test(f.path));
    const idx = metadataPacks.find((f) => f.path.endsWith('.idx'))!;
    expect(idx).toMatchObject({ derivedFrom: idx.path.replace(/\.idx$/, '.pack') });
    expect(store.calls.filter((c) => c.op === 'putOnce').map((c) => c.key)).not.toContain(objectKey(idx.sha256));

    const pulled = join(makeTempDir('gpb-pull-'), 'snap');
    cleanups.push(() => execFileSync('rm', ['-rf', join(pulled, '..')]));
    await pullSnapshot(store, manifest, pulled, { layout: 'snapshot' });
    expect(await contentFingerprint(pulled)).toEqual(await contentFingerprint(snapshot));

    // As a working repository: the metadata is left out, so only the repository's own packs are indexed.
    const tmp = makeTempDir('gpb-pull-');
    cleanups.push(() => execFileSync('rm', ['-rf', tmp]));
    const calls = recordGitCalls(tmp);
    const restoreEnv = setEnv({ PATH: calls.path });
    try {
      await pullSnapshot(store, manifest, join(tmp, 'w.git'), { layout: 'repository', git: createGitCommandManager({ redactor: new Redactor() }) });
    } finally {
      restoreEnv();
    }
    const repositoryPacks = manifest.files.filter((f) => isDerivedFile(f) && f.path.endsWith('.idx') && !METADATA_PACK.test(f.path)).length;
    expect(calls.take().filter((c) => c === 'index-pack')).toHaveLength(repositoryPacks);
    expect(refsOf(join(tmp, 'w.git'))).toEqual(refsOf(upstreamBare));
  });

  it('in a manifest of an earlier version are refused', async () => {
    const { snapshot } = await snapshotWithMetadataPack();
    const storeDir = makeTempDir('gpb-store-');
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const store = new TestDirStore(storeDir);
    const manifest = await readManifest(store, 'acme/widgets', (await pushSnapshot(store, snapshot)).snapshot);
    expect(() => parseManifest(gzipSync(JSON.stringify({ ...manifest, version: 3 })), 'test')).toThrow(
      /manifest refused: github-metadata\/repo\.git\/objects\/pack\/pack-[0-9a-f]{40}\.idx: a version-3 manifest derives no file of the metadata repository/,
    );
  });
});
