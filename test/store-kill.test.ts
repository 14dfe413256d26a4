// kill -9 during a push: a child process pushes a real snapshot into a directory store, slowly, and is killed
// midway. No manifest is left; the next push uploads only what is missing and commits; the result restores.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readMetadata } from '../src/metadata.ts';
import { readManifest } from '../src/store/catalog.ts';
import { manifestKey } from '../src/store/format.ts';
import { storedFiles } from '../src/store/manifest.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { pushSnapshot } from '../src/store/push.ts';
import { verifyStore } from '../src/store/store-verify.ts';
import { git, makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { storeScenario, type StoreScenario } from './helpers/store-fixtures.ts';

const CHILD = join(import.meta.dirname, 'helpers', 'push-child.ts');
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function objectsIn(s: StoreScenario): string[] {
  const root = join(s.store.dir, 'objects');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((fan) => readdirSync(join(root, fan)).map((name) => `objects/${fan}/${name}`));
}

function startPush(s: StoreScenario, snapshot: string, delayMs: number): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CHILD, s.store.dir, snapshot, String(delayMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('push killed with SIGKILL', () => {
  it('leaves no manifest, and the next push uploads only the rest and commits', async () => {
    const s = storeScenario();
    cleanups.push(s.cleanup);
    const snapshot = await s.syncSnapshot();
    const metadata = await readMetadata(snapshot);
    // packed-refs and snapshot.json travel in the manifest, pack indexes are rebuilt from their packs; every other
    // file is one object.
    const indexes = Object.keys(metadata.files).filter((p) => /^objects\/pack\/.*\.(idx|rev)$/.test(p));
    const total = Object.keys(metadata.files).length - 1 - indexes.length;
    const key = manifestKey(metadata.repository, metadata.name);

    const { child, done } = startPush(s, snapshot, 250);
    const deadline = Date.now() + 30_000;
    while (objectsIn(s).length < 2 && Date.now() < deadline) await sleep(20);
    child.kill('SIGKILL');
    const exit = await done;
    expect(exit.signal, exit.stderr).toBe('SIGKILL');
    const left = objectsIn(s);
    expect(left.length).toBeGreaterThanOrEqual(2);
    expect(left.length).toBeLessThan(total);
    expect(existsSync(s.store.filePath(key))).toBe(false);

    const resumed = await pushSnapshot(s.store, snapshot);
    expect(resumed.alreadyInStore).toBe(false);
    expect(resumed.reusedObjects).toBe(left.length);
    expect(resumed.uploadedObjects).toBe(total - left.length);
    expect(existsSync(s.store.filePath(key))).toBe(true);
    expect((await verifyStore(s.store, { readData: 1 })).problems).toEqual([]);

    const repo = join(makeTempDir('gpb-pull-'), 'w.git');
    await pullSnapshot(s.store, await readManifest(s.store, metadata.repository, metadata.name), repo, { layout: 'repository' });
    git(repo, 'fsck', '--full', '--strict');
    expect(refsOf(repo)).toEqual(refsOf(s.upstream.bare));
  });

  it('a manifest appears only once every object it names is in the store', async () => {
    const s = storeScenario();
    cleanups.push(s.cleanup);
    const snapshot = await s.syncSnapshot();
    const metadata = await readMetadata(snapshot);
    const key = manifestKey(metadata.repository, metadata.name);
    const { done } = startPush(s, snapshot, 60);
    let finished = false;
    void done.then(() => (finished = true));
    let seenWithout = 0;
    while (!finished) {
      if (existsSync(s.store.filePath(key))) {
        const manifest = await readManifest(s.store, metadata.repository, metadata.name);
        const have = new Set(objectsIn(s));
        expect(storedFiles(manifest).filter((f) => !have.has(f.key))).toEqual([]);
        break;
      }
      seenWithout++;
      await sleep(15);
    }
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
    expect(seenWithout).toBeGreaterThan(0);
    expect(existsSync(s.store.filePath(key))).toBe(true);
  });
});
