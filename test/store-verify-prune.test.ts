// store verify and store prune against real snapshots in a directory store: missing and tampered objects found,
// packs checked by git, retention applied, unreferenced objects deleted only after the grace period, Object Lock
// respected, and a prune that runs beside a push never takes away what the push relies on.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { LockHeldError } from '../src/errors.ts';
import { listStoredSnapshots, readManifest } from '../src/store/catalog.ts';
import { manifestKey, objectKey } from '../src/store/format.ts';
import { isDerivedFile, serializeManifest, storedFiles } from '../src/store/manifest.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { PushSession, pushSnapshot } from '../src/store/push.ts';
import { ExclusiveLease, sharedLeases } from '../src/store/store-lock.ts';
import { pruneStore, type StorePruneOptions } from '../src/store/store-prune.ts';
import { verifyStore } from '../src/store/store-verify.ts';
import { git, makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { forgeManifest, overwrite, storeScenario, type StoreScenario } from './helpers/store-fixtures.ts';

const cleanups = cleanupAfterEach();

function scenario(): StoreScenario {
  const s = storeScenario();
  cleanups.push(s.cleanup);
  return s;
}

/**
 * Three daily snapshots, each pushed. With `repack`, the mirror is repacked into one pack before the third, as
 * sync's geometric repack does once packs pile up: the older snapshots' packs are then theirs alone.
 */
async function threeDays(s: StoreScenario, options: { repack?: boolean } = {}): Promise<string[]> {
  const dirs = [await s.syncSnapshot()];
  for (const day of ['day two', 'day three']) {
    s.clock.advanceDays(1);
    if (options.repack && day === 'day three') git(join(s.backup.root, 'immutable', 'acme', 'widgets.git'), 'repack', '-a', '-d', '-q');
    dirs.push(await s.syncSnapshot(day));
  }
  for (const dir of dirs) await pushSnapshot(s.store, dir);
  return dirs;
}

/** Make a stored object look `days` old (the directory store's lastModified is the file's mtime). */
function age(s: StoreScenario, key: string, days: number): void {
  const t = new Date(Date.now() - days * 86_400_000);
  utimesSync(s.store.filePath(key), t, t);
}

function ageEverything(s: StoreScenario, days: number): void {
  for (const f of objectFiles(s)) age(s, f, days);
}

function objectFiles(s: StoreScenario): string[] {
  return s.store.calls.filter((c) => c.op === 'putOnce' && c.key.startsWith('objects/')).map((c) => c.key).filter((k, i, all) => all.indexOf(k) === i && existsSync(s.store.filePath(k)));
}

const keepNewestOnly: StorePruneOptions['policy'] = { days: 0, weekly: 0, monthly: 0, yearly: 0, keepMin: 1 };

describe('store verify', () => {
  it('passes on a sound store and reads every object with --read-data, checking packs with git', async () => {
    const s = scenario();
    await threeDays(s);
    const plain = await verifyStore(s.store);
    expect(plain).toMatchObject({ ok: true, snapshots: 3, objectsRead: 0, problems: [], unreferencedObjects: 0 });
    const full = await verifyStore(s.store, { readData: 1 });
    expect(full.ok).toBe(true);
    expect(full.objectsRead).toBe(plain.objects);
    expect(full.packsChecked).toBeGreaterThanOrEqual(3);
  });

  it('finds a missing object (a pack its derived index needs) and an object whose stored size changed', async () => {
    const s = scenario();
    const [first] = await threeDays(s);
    const manifest = await readManifest(s.store, 'acme/widgets', first!.split('/').at(-1)!);
    const pack = storedFiles(manifest).find((f) => f.path.endsWith('.pack'))!;
    expect(manifest.files).toContainEqual(expect.objectContaining({ path: pack.path.replace(/\.pack$/, '.idx'), derivedFrom: pack.path }));
    const config = storedFiles(manifest).find((f) => f.path === 'config')!;
    rmSync(s.store.filePath(pack.key));
    overwrite(s.store.filePath(config.key), Buffer.from(`${readFileSync(s.store.filePath(config.key), 'utf8')}# grown\n`));
    const result = await verifyStore(s.store);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: pack.key, path: pack.path, problem: 'missing object' }),
        expect.objectContaining({ key: config.key, problem: expect.stringMatching(/^stored size \d+, the manifest recorded \d+$/) }),
      ]),
    );
  });

  it('a same-size tampered object passes the size check but not --read-data', async () => {
    const s = scenario();
    await threeDays(s);
    const [latest] = (await listStoredSnapshots(s.store)).slice(-1);
    const manifest = await readManifest(s.store, latest!.repository, latest!.snapshot);
    const pack = storedFiles(manifest).find((f) => f.path.endsWith('.pack'))!;
    const bytes = readFileSync(s.store.filePath(pack.key));
    bytes[bytes.length - 25]! ^= 0x10;
    overwrite(s.store.filePath(pack.key), bytes);
    expect((await verifyStore(s.store)).ok).toBe(true);
    const read = await verifyStore(s.store, { readData: 1 });
    expect(read.ok).toBe(false);
    expect(read.problems.find((p) => p.key === pack.key)?.problem).toMatch(/does not match its recorded checksum/);
  });

  it('--read-data-subset reads the share asked for', async () => {
    const s = scenario();
    await threeDays(s);
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const all = await verifyStore(s.store);
    const some = await verifyStore(s.store, { readData: 0.25, random });
    expect(some.objectsRead).toBe(Math.ceil(all.objects * 0.25));
    expect(some.ok).toBe(true);
  });

  it('git index-pack catches a broken pack whose checksum the manifest vouches for', async () => {
    const s = scenario();
    const [first] = await threeDays(s);
    const name = first!.split('/').at(-1)!;
    const manifest = await readManifest(s.store, 'acme/widgets', name);
    // A hostile or buggy writer: garbage stored under its own sha256, listed as the pack.
    const garbage = Buffer.from('PACK not really a pack at all');
    const sha256 = createHash('sha256').update(garbage).digest('hex');
    await s.store.putOnce(objectKey(sha256), garbage);
    const forged = forgeManifest(manifest, 'snapshot-20300101-000000', (f) =>
      f.path.endsWith('.pack') ? { ...f, sha256, key: objectKey(sha256), size: garbage.length, storedSize: garbage.length } : f,
    );
    await s.store.putOnce(manifestKey('acme/widgets', forged.name), serializeManifest(forged));
    const result = await verifyStore(s.store, { readData: 1 });
    expect(result.problems).toEqual([expect.objectContaining({ snapshot: 'acme/widgets snapshot-20300101-000000', problem: expect.stringMatching(/git index-pack could not rebuild objects\/pack\/pack-[0-9a-f]+\.idx/) })]);
  });

  it('reports an unreadable manifest', async () => {
    const s = scenario();
    await threeDays(s);
    await s.store.putOnce(manifestKey('acme/widgets', 'snapshot-20300101-000000'), gzipSync('{"format": "nope"'));
    const result = await verifyStore(s.store);
    expect(result.problems).toEqual([expect.objectContaining({ problem: expect.stringMatching(/^unreadable manifest: .*not valid JSON/) })]);
  });
});

describe('store prune', () => {
  it('forgets what the policy lets go, deletes unreferenced objects past the grace period, and the rest still restores', async () => {
    const s = scenario();
    const dirs = await threeDays(s, { repack: true });
    const names = dirs.map((d) => d.split('/').at(-1)!);
    ageEverything(s, 2);
    const before = objectFiles(s).length;

    const dry = await pruneStore(s.store, { policy: keepNewestOnly, dryRun: true });
    expect(dry.repositories[0]!.forgotten).toEqual([names[1], names[0]]);
    expect(dry.objects.deleted).toBeGreaterThan(0);
    expect(objectFiles(s)).toHaveLength(before); // a dry run deletes nothing
    expect((await listStoredSnapshots(s.store)).length).toBe(3);

    const result = await pruneStore(s.store, { policy: keepNewestOnly });
    expect(result.repositories[0]!.decisions.map((d) => [d.name, d.keep])).toEqual([
      [names[2], true],
      [names[1], false],
      [names[0], false],
    ]);
    expect(result.objects.deleted).toBe(dry.objects.deleted);
    expect(objectFiles(s)).toHaveLength(before - result.objects.deleted);
    expect((await listStoredSnapshots(s.store)).map((x) => x.snapshot)).toEqual([names[2]]);
    // The packs the kept snapshot's indexes are rebuilt from are referenced, so they stay (the repack's new one).
    const kept = await readManifest(s.store, 'acme/widgets', names[2]!);
    const derived = kept.files.filter(isDerivedFile);
    expect(derived.length).toBeGreaterThan(0);
    for (const f of derived) expect(existsSync(s.store.filePath(storedFiles(kept).find((p) => p.path === f.derivedFrom)!.key)), f.derivedFrom).toBe(true);
    expect((await verifyStore(s.store, { readData: 1 })).problems).toEqual([]);
    // Nothing left to do: a second prune deletes nothing.
    expect((await pruneStore(s.store, { policy: keepNewestOnly })).objects.deleted).toBe(0);

    const repo = join(makeTempDir('gpb-pull-'), 'w.git');
    await pullSnapshot(s.store, await readManifest(s.store, 'acme/widgets', names[2]!), repo, { layout: 'repository' });
    git(repo, 'fsck', '--full', '--strict');
    expect(refsOf(repo)).toEqual(refsOf(s.upstream.bare));
    // The lease is gone: another prune can run.
    expect((await pruneStore(s.store, { policy: keepNewestOnly })).problems).toEqual([]);
  });

  it('never deletes an unreferenced object younger than the grace period (an interrupted push may resume)', async () => {
    const s = scenario();
    await threeDays(s);
    ageEverything(s, 2);
    const orphan = Buffer.from('left by a push that was killed before its manifest\n');
    const key = objectKey(createHash('sha256').update(orphan).digest('hex'));
    await s.store.putOnce(key, orphan);
    const young = await pruneStore(s.store, { policy: keepNewestOnly, graceMs: 3_600_000 });
    expect(young.objects.young).toBe(1);
    expect(existsSync(s.store.filePath(key))).toBe(true);
    age(s, key, 1);
    const old = await pruneStore(s.store, { policy: keepNewestOnly, graceMs: 3_600_000 });
    expect(old.objects.deleted).toBe(1);
    expect(existsSync(s.store.filePath(key))).toBe(false);
  });

  it('leaves what Object Lock retains, and says so', async () => {
    const s = scenario();
    const dirs = [await s.syncSnapshot()];
    s.clock.advanceDays(1);
    dirs.push(await s.syncSnapshot('day two'));
    for (const dir of dirs) await pushSnapshot(s.store, dir, { objectLock: { mode: 'COMPLIANCE', days: 30 } });
    ageEverything(s, 2);
    // Known from config: retained for 30 days after upload, not even asked.
    const predicted = await pruneStore(s.store, { policy: keepNewestOnly, objectLock: { mode: 'COMPLIANCE', days: 30 } });
    expect(predicted.repositories[0]!.locked).toEqual([dirs[0]!.split('/').at(-1)]);
    expect(predicted.repositories[0]!.forgotten).toEqual([]);
    expect(s.store.calls.filter((c) => c.op === 'delete' && !c.key.startsWith('locks/'))).toEqual([]);
    // Not configured here, but the store refuses: counted as locked, nothing lost.
    const refused = await pruneStore(s.store, { policy: keepNewestOnly });
    expect(refused.repositories[0]!.locked).toEqual([dirs[0]!.split('/').at(-1)]);
    expect((await listStoredSnapshots(s.store)).length).toBe(2);
    expect((await verifyStore(s.store)).ok).toBe(true);
  });

  it('deletes no object when a kept manifest cannot be read', async () => {
    const s = scenario();
    await threeDays(s);
    ageEverything(s, 2);
    await s.store.putOnce(manifestKey('acme/widgets', 'snapshot-20300101-000000'), Buffer.from('garbage'));
    const result = await pruneStore(s.store, { policy: keepNewestOnly });
    expect(result.objects.deleted).toBe(0);
    expect(result.problems.at(-1)).toMatch(/no object was deleted/);
  });
});

describe('prune beside a push', () => {
  it('refuses to run while a push holds its lease, and deletes nothing', async () => {
    const s = scenario();
    const dirs = await threeDays(s);
    ageEverything(s, 2);
    s.clock.advanceDays(1);
    const fourth = await s.syncSnapshot('day four');
    // A push run in flight: it has pushed one snapshot, holds its lease, and knows what the store holds.
    const session = new PushSession(s.store);
    await session.pushSnapshot(fourth);
    await expect(pruneStore(s.store, { policy: keepNewestOnly })).rejects.toThrow(/push\(es\) in flight/);
    expect(s.store.calls.filter((c) => c.op === 'delete' && !c.key.startsWith('locks/'))).toEqual([]);
    // Its next snapshot reuses old objects without asking again: they must all still be there.
    s.clock.advanceDays(1);
    const fifth = await s.syncSnapshot('day five');
    const result = await session.pushSnapshot(fifth);
    await session.close();
    expect(result.reusedObjects).toBeGreaterThan(0);
    expect(dirs).toHaveLength(3);
    expect((await verifyStore(s.store, { readData: 1 })).problems).toEqual([]);
  });

  it('a session pushing repositories in parallel takes one lease and lists objects once, and lets the lease go when idle', async () => {
    const s = scenario();
    const other = storeScenario({ owner: 'acme', name: 'gadgets' });
    cleanups.push(other.cleanup);
    const [a, b] = [await s.syncSnapshot(), await other.syncSnapshot()];
    const session = new PushSession(s.store, { lease: { idleMs: 100 } });
    const results = await Promise.all([session.pushRepository('acme/widgets', [a]), session.pushRepository('acme/gadgets', [b])]);
    expect(results.map((r) => r.length)).toEqual([1, 1]);
    expect(s.store.calls.filter((c) => c.op === 'putOnce' && c.key.startsWith('locks/shared/'))).toHaveLength(1);
    expect(s.store.calls.filter((c) => c.op === 'list' && c.key === 'objects/')).toHaveLength(1);
    expect((await sharedLeases(s.store)).live).toHaveLength(1);
    // Never closed (a daemon's long life): the idle session lets its lease go, and prune can run.
    await new Promise((r) => setTimeout(r, 500));
    expect((await sharedLeases(s.store)).live).toEqual([]);
    ageEverything(s, 2);
    expect((await pruneStore(s.store, { policy: keepNewestOnly })).problems).toEqual([]);
    // The session still works: it takes a new lease and a fresh view of the store.
    s.clock.advanceDays(1);
    const next = await session.pushSnapshot(await s.syncSnapshot('day two'));
    expect(next.reusedObjects).toBeGreaterThan(0);
    await session.close();
    expect((await verifyStore(s.store, { readData: 1 })).problems).toEqual([]);
  });

  it('a push that starts while a prune runs waits for it, then finds every object it needs', async () => {
    const s = scenario();
    await threeDays(s);
    ageEverything(s, 2);
    s.clock.advanceDays(1);
    const fourth = await s.syncSnapshot('day four');
    const prune = await ExclusiveLease.acquire(s.store, { purpose: 'prune' });
    const objectsBefore = s.store.calls.filter((c) => c.op === 'putOnce' && c.key.startsWith('objects/')).length;
    const pushing = pushSnapshot(s.store, fourth, { lease: { pollMs: 20, waitMs: 20_000 } });
    let pushed = false;
    void pushing.then(() => (pushed = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(pushed).toBe(false); // waiting on the prune's lease
    expect(s.store.calls.filter((c) => c.op === 'putOnce' && c.key.startsWith('objects/')).length).toBe(objectsBefore);
    await prune.release();
    const result = await pushing;
    expect(result.alreadyInStore).toBe(false);
    expect((await verifyStore(s.store)).problems).toEqual([]);
  });

  it('a real prune and a real push at the same moment: the store stays whole', async () => {
    const s = scenario();
    await threeDays(s);
    ageEverything(s, 2);
    s.clock.advanceDays(1);
    const fourth = await s.syncSnapshot('day four');
    s.store.putDelayMs = 5;
    const [prune, push] = await Promise.allSettled([
      pruneStore(s.store, { policy: keepNewestOnly }),
      pushSnapshot(s.store, fourth, { lease: { pollMs: 20, waitMs: 20_000 } }),
    ]);
    // One may have stepped back (a LockHeldError), never both may act on a stale view.
    if (prune.status === 'rejected') expect(prune.reason).toBeInstanceOf(LockHeldError);
    expect(push.status).toBe('fulfilled');
    expect((await verifyStore(s.store, { readData: 1 })).problems).toEqual([]);
  });
});

describe('store lock', () => {
  it('one exclusive holder at a time; taken over once the lease expires; released for the next', async () => {
    const s = scenario();
    const first = await ExclusiveLease.acquire(s.store, { purpose: 'prune', leaseMs: 60_000 });
    await expect(ExclusiveLease.acquire(s.store, { purpose: 'prune', leaseMs: 60_000 })).rejects.toThrow(/another prune holds the store lock/);
    await first.release();
    const second = await ExclusiveLease.acquire(s.store, { purpose: 'prune', leaseMs: 60_000 });
    // A holder that died: its lease is older than the lease time, so the next taker takes over.
    const later = () => new Date(Date.now() + 61_000);
    const third = await ExclusiveLease.acquire(s.store, { purpose: 'prune', leaseMs: 60_000, clock: later });
    expect(() => third.assertHeld()).not.toThrow();
    // The one taken over learns it at its next renewal.
    await expect(second.renew()).rejects.toThrow(/taken over/);
    await third.release();
    await second.release().catch(() => undefined);
  });

  it('renews on a timer, so a long prune keeps its lease', async () => {
    const s = scenario();
    // Renewed every 500 ms: a loaded machine's stalls stay well inside the 1.5 s lease (300 ms was flaky under load).
    const lease = await ExclusiveLease.acquire(s.store, { purpose: 'prune', leaseMs: 1500 });
    await new Promise((r) => setTimeout(r, 3200));
    expect(() => lease.assertHeld()).not.toThrow();
    await expect(ExclusiveLease.acquire(s.store, { purpose: 'prune', leaseMs: 1500 })).rejects.toThrow(LockHeldError);
    expect(s.store.calls.filter((c) => c.op === 'putOnce' && c.key.startsWith('locks/exclusive/')).length).toBeGreaterThanOrEqual(3);
    await lease.release();
  });

  it('two takers racing: exactly one wins', async () => {
    const s = scenario();
    const results = await Promise.allSettled([1, 2, 3].map(() => ExclusiveLease.acquire(s.store, { purpose: 'prune' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockHeldError);
    await (won[0] as PromiseFulfilledResult<ExclusiveLease>).value.release();
  });
});
