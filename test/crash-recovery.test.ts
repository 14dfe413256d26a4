// What a killed run leaves behind is finished or removed by the next writer of the repository (docs/OPERATIONS.md
// "Stopping and crashes"): git's stale lock files, a half-done prune, an in-place restore killed mid-swap.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createBackup, createUpstream, okValue, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { runCli } from './helpers/cli.ts';

const cleanups = cleanupAfterEach();
function upstream(): Upstream {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  return u;
}

describe('git lock files left by a killed git', () => {
  it('are removed by the next sync, which then fetches instead of failing with "cannot lock ref"', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const mirror = join(b.root, 'immutable/acme/widgets.git');
    // What git leaves when killed mid-update: a ref lock, packed-refs.lock, shallow.lock, config.lock.
    mkdirSync(join(mirror, 'refs/heads'), { recursive: true });
    writeFileSync(join(mirror, 'refs/heads/main.lock'), '');
    writeFileSync(join(mirror, 'packed-refs.lock'), '');
    writeFileSync(join(mirror, 'shallow.lock'), '');
    writeFileSync(join(mirror, 'config.lock'), '');
    const head = u.commit('after the crash');
    u.push('main');

    const sync = await runCli(['sync', '--root', b.root, '--repo', u.bare]);
    expect(sync.stderr).toMatch(/removed stale git lock widgets\.git\/refs\/heads\/main\.lock/);
    expect(sync.code).toBe(0);
    for (const lock of ['refs/heads/main.lock', 'packed-refs.lock', 'shallow.lock', 'config.lock']) expect(existsSync(join(mirror, lock))).toBe(false);
    expect(refsOf(mirror)['refs/heads/main']).toBe(head);
  });
});

describe('an interrupted prune', () => {
  for (const command of ['prune', 'sync']) {
    it(`is finished by the next ${command}`, async () => {
      const u = upstream();
      const b = createBackup([u]);
      const snapshot = okValue(await b.engine.sync()).snapshot!;
      const parent = join(b.root, 'snapshots/acme/widgets');
      // prune renames a snapshot to .tmp-deleting-… and was killed while deleting it: read-only directories and all.
      const doomed = join(parent, `.tmp-deleting-${snapshot.name}-0123abcd`);
      cpSync(snapshot.path, doomed, { recursive: true });
      chmodSync(doomed, 0o555);
      const run = await runCli([command, '--root', b.root, '--repo', u.bare]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/removed incomplete .*\.tmp-deleting-/);
      expect(readdirSync(parent)).toEqual([snapshot.name]);
    });
  }
});

describe('an in-place restore killed mid-swap', () => {
  /** Two snapshots (old, new); restoring the old one in place for real, then reshaping what is on disk. */
  async function restoredInPlace() {
    const u = upstream();
    const b = createBackup([u]);
    const old = okValue(await b.engine.sync()).snapshot!;
    u.commit('newer work');
    u.push('main');
    okValue(await b.engine.sync());
    const owner = join(b.root, 'immutable/acme');
    const mirror = join(owner, 'widgets.git');
    const newRefs = refsOf(mirror);
    // What the swap moves aside (a completed restore then makes it a pinned snapshot): a copy of the live mirror.
    const kept = join(owner, 'widgets.git.replaced-20260101-020000-0000beef');
    cpSync(mirror, kept, { recursive: true });
    okValue(await b.engine.restore({ snapshot: old.name }));
    expect(refsOf(kept)).toEqual(newRefs);
    const oldRefs = refsOf(mirror);
    const journal = join(b.root, 'state/swaps/acme__widgets.json');
    const built = join(owner, '.tmp-restore-widgets-0badc0de');
    const writeJournal = (keptName: string | null) =>
      writeFileSync(journal, JSON.stringify({ format: 1, repository: 'acme/widgets', built: '.tmp-restore-widgets-0badc0de', kept: keptName, startedAt: new Date().toISOString() }));
    mkdirSync(join(b.root, 'state/swaps'), { recursive: true });
    return { u, b, owner, mirror, kept, built, journal, oldRefs, newRefs, writeJournal };
  }

  it('after the live mirror was moved aside: the next run moves the rebuilt one in, never re-clones it', async () => {
    const s = await restoredInPlace();
    // The crash window: mirror moved aside (kept), the complete rebuilt mirror still under its temporary name.
    renameSync(s.mirror, s.built);
    s.writeJournal(s.kept.split('/').at(-1)!);
    const run = await runCli(['snapshot', '--root', s.b.root, '--repo', s.u.bare]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/interrupted mid-swap .*: completed/);
    expect(refsOf(s.mirror)).toEqual(s.oldRefs);
    expect(refsOf(s.kept)).toEqual(s.newRefs);
    expect(existsSync(s.built)).toBe(false);
    expect(existsSync(s.journal)).toBe(false);
    // A sync afterwards fetches into the restored mirror as usual.
    expect((await runCli(['sync', '--root', s.b.root, '--repo', s.u.bare])).code).toBe(0);
  });

  it('before anything moved: the next run completes the swap and keeps the live mirror', async () => {
    const s = await restoredInPlace();
    // Reshape into "built and verified, journal written, no rename yet": live mirror has the new refs again.
    renameSync(s.mirror, s.built);
    renameSync(s.kept, s.mirror);
    const keptName = 'widgets.git.replaced-20260101-020000-0000abcd';
    s.writeJournal(keptName);
    const run = await runCli(['prune', '--root', s.b.root, '--repo', s.u.bare]);
    expect(run.code).toBe(0);
    expect(refsOf(s.mirror)).toEqual(s.oldRefs);
    expect(refsOf(join(s.owner, keptName))).toEqual(s.newRefs);
    expect(existsSync(s.journal)).toBe(false);
  });

  it('with the rebuilt mirror gone as well: the previous mirror is put back', async () => {
    const s = await restoredInPlace();
    renameSync(s.mirror, join(s.owner, 'elsewhere')); // lost: only the kept previous mirror is left
    s.writeJournal(s.kept.split('/').at(-1)!);
    const run = await runCli(['snapshot', '--root', s.b.root, '--repo', s.u.bare]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/interrupted mid-swap .*: rolled back/);
    expect(refsOf(s.mirror)).toEqual(s.newRefs);
    expect(existsSync(s.kept)).toBe(false);
  });

  it('a journal naming paths outside the repository is refused and nothing is moved', async () => {
    const s = await restoredInPlace();
    renameSync(s.mirror, s.built);
    writeFileSync(s.journal, JSON.stringify({ format: 1, repository: 'acme/widgets', built: '../../../etc', kept: null, startedAt: 'x' }));
    const run = await runCli(['sync', '--root', s.b.root, '--repo', s.u.bare]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/swap journal for acme\/widgets names unexpected paths.*nothing was moved/);
    expect(existsSync(s.built)).toBe(true);
    expect(existsSync(s.mirror)).toBe(false);
    expect(existsSync(s.journal)).toBe(true);
  });
});

describe('a repository lock left by a container that was recreated (another host)', () => {
  it('blocks a sync while its lease is fresh (exit 4), and is taken over once it ran out', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const lock = join(b.root, 'state/locks/acme__widgets.lock');
    writeFileSync(lock, JSON.stringify({ host: 'old-container', pid: 7, startTime: '1', command: 'sync acme/widgets', acquiredAt: new Date().toISOString(), pidNamespace: 'pid:[1]', leaseMs: 30_000 }));
    const blocked = await runCli(['sync', '--root', b.root, '--repo', u.bare]);
    expect(blocked.code).toBe(4);
    expect(blocked.stdout + blocked.stderr).toMatch(/held by sync acme\/widgets \(pid 7 on old-container.*taken over once not renewed for 30 s/);

    const lastRenewed = new Date(Date.now() - 31_000);
    utimesSync(lock, lastRenewed, lastRenewed);
    const next = await runCli(['sync', '--root', b.root, '--repo', u.bare]);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/took over stale lock from old-container\/7: its lease was last renewed 31(\.\d)? s ago/);
    expect(existsSync(lock)).toBe(false);
  });
});
