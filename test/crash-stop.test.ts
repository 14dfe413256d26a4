// Stopping and killing the real CLI mid-fetch against a slow upstream (git-http-backend on 127.0.0.1, trickled):
// its git children stop with it, it exits 130, and the next run recovers (docs/OPERATIONS.md "Stopping and crashes").
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createUpstream, makeTempDir, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { acquireLock } from '../src/lock.ts';
import { CLI, runCli, startCli } from './helpers/cli.ts';
import { startSlowGitServer, type SlowGitServer } from './helpers/slow-git-server.ts';
import { addBigCommit, BIG, FAST, gitOfRun, SLOW, until } from './helpers/slow-fetch.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(): Promise<{ u: Upstream; server: SlowGitServer; root: string; args: string[] }> {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  addBigCommit(u, 'big-1.bin');
  const server = await startSlowGitServer(join(u.tmp, 'upstream'), SLOW);
  cleanups.push(() => server.close());
  const root = join(makeTempDir('gpb-stop-'), 'backup');
  return { u, server, root, args: ['--root', root, '--repo', `${server.url}/acme/widgets.git`] };
}

/** Start the CLI and wait until its fetch is under way: git running and part of the pack received. */
async function startFetching(server: SlowGitServer, argv: string[], env: NodeJS.ProcessEnv = {}) {
  const before = server.bytesSent();
  const run = startCli(argv, env);
  const pid = run.child.pid!;
  await until('the fetch to be under way', () => server.bytesSent() - before > 256 * 1024 && gitOfRun(pid).some((p) => p.comm === 'git'));
  return { ...run, pid, gits: gitOfRun(pid) };
}

describe('stopping the CLI mid-fetch', () => {
  it('SIGTERM stops its git at once, says what it stops, exits 130; the next run completes the backup', async () => {
    const { u, server, args } = await setup();
    const run = await startFetching(server, ['sync', ...args]);
    expect(run.gits.map((g) => g.comm)).toEqual(expect.arrayContaining(['git', 'git-remote-http']));
    run.child.kill('SIGTERM');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/backup-manager: SIGTERM: stopping after sync acme\/widgets, git fetch… \(again to stop at once\)/);
    // Gone by the time the CLI has exited, and the pack was never sent whole: stopped, not finished.
    expect(gitOfRun(run.pid)).toEqual([]);
    expect(server.bytesSent()).toBeLessThan(BIG);
    expect(server.requests.some((r) => r.startsWith('POST /acme/widgets.git/git-upload-pack'))).toBe(true);

    server.setTrickle(FAST);
    const next = await runCli(['sync', ...args]);
    expect(next.code).toBe(0);
    expect(refsOf(join(args[1]!, 'immutable/acme/widgets.git'))).toEqual(refsOf(u.bare));
  });

  it('a second signal kills git and exits 130 at once; the next run recovers', async () => {
    const { u, server, args } = await setup();
    const run = await startFetching(server, ['sync', ...args]);
    let heard = '';
    run.child.stderr!.on('data', (d: Buffer) => (heard += d.toString()));
    run.child.kill('SIGINT');
    // The second signal once the first was taken: two signals pending at once may be handled in either order.
    await until('the first signal to be taken', () => heard.includes('SIGINT: stopping'), 10_000);
    run.child.kill('SIGTERM');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/SIGINT: stopping after sync acme\/widgets/);
    expect(stopped.stderr).toMatch(/stopped at once on a second SIGTERM/);
    await until('SIGKILLed git to be gone', () => gitOfRun(run.pid).length === 0, 2_000);

    server.setTrickle(FAST);
    const next = await runCli(['sync', ...args]);
    expect(next.code).toBe(0);
    expect(refsOf(join(args[1]!, 'immutable/acme/widgets.git'))).toEqual(refsOf(u.bare));
  });
});

describe('a run killed with SIGKILL mid-fetch', () => {
  it('leaves its git working on the mirror; the next run stops it before touching anything, then syncs', async () => {
    const { u, server, root, args } = await setup();
    server.setTrickle(FAST);
    expect((await runCli(['sync', ...args])).code).toBe(0);
    addBigCommit(u, 'big-2.bin');
    server.setTrickle(SLOW);

    const run = await startFetching(server, ['sync', ...args]);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    // The CLI is gone; its fetch is not: it goes on writing into the mirror.
    const orphans = gitOfRun(run.pid);
    expect(orphans.map((g) => g.comm)).toContain('git');
    const mirror = join(root, 'immutable/acme/widgets.git');
    expect(orphans.some((g) => readlinkCwd(g.pid) === mirror)).toBe(true);

    server.setTrickle(FAST); // the next run's own fetch is fast; the orphan keeps its slow pace
    const next = await runCli(['sync', ...args]);
    expect(next.stderr).toMatch(/took over stale lock/);
    expect(next.stderr).toMatch(/stopping git \(pid \d+\) left working on .*widgets\.git by a previous run/);
    expect(next.code).toBe(0);
    expect(gitOfRun(run.pid)).toEqual([]);
    expect(refsOf(mirror)).toEqual(refsOf(u.bare));
    expect(readdirSync(join(mirror, 'objects/pack')).filter((n) => n.startsWith('tmp_'))).toEqual([]);
    const verify = await runCli(['verify', '--root', root, '--repo', args[3]!]);
    expect(verify.code).toBe(0);
  });
});

describe('a run whose lease lapsed', () => {
  it.skipIf(spawnSync('bwrap', ['--unshare-pid', '--dev-bind', '/', '/', 'true']).status !== 0)(
    'stops its git and exits 4 once another run took its lock over, leaving that run\'s lock alone',
    async () => {
      const { u, server, root, args } = await setup();
      server.setTrickle(FAST);
      expect((await runCli(['sync', ...args])).code).toBe(0);
      addBigCommit(u, 'big-2.bin');
      server.setTrickle(SLOW);

      // In its own PID namespace (a container of its own), so that only its lease speaks for it.
      const bwrap = spawn('bwrap', ['--unshare-pid', '--die-with-parent', '--dev-bind', '/', '/', process.execPath, CLI, 'sync', ...args], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BACKUP_LOCK_LEASE_MS: '400' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      bwrap.stdout!.on('data', (d) => (output += d));
      bwrap.stderr!.on('data', (d) => (output += d));
      const exited = once(bwrap, 'close').then(([code]) => code as number | null);
      cleanups.push(() => bwrap.kill('SIGKILL'));
      const before = server.bytesSent();
      await until('the fetch to be under way', () => server.bytesSent() - before > 256 * 1024);
      const cli = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).find((pid) => {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          return argv[1] === CLI && argv.includes(root);
        } catch {
          return false;
        }
      })!;
      expect(cli).toBeGreaterThan(0);
      // Its PID inside its namespace, which is what its git's GPB_RUN marker names.
      const innerPid = Number(/^NSpid:\s.*?(\d+)\s*$/m.exec(readFileSync(`/proc/${cli}/status`, 'utf8'))![1]);
      expect(innerPid).not.toBe(cli);
      expect(gitOfRun(innerPid).map((g) => g.comm)).toContain('git');

      // Frozen past its lease (a suspended VM, SIGSTOP): another run takes the lock over, as it may.
      process.kill(cli, 'SIGSTOP');
      await sleep(900);
      const lockPath = join(root, 'state/locks/acme__widgets.lock');
      const theirs = await acquireLock(lockPath, { command: 'sync acme/widgets (the other run)' });
      process.kill(cli, 'SIGCONT');

      expect(await exited).toBe(4);
      expect(output).toMatch(/sync acme\/widgets stopped: lock .* was taken over by another run while it worked/);
      expect(gitOfRun(innerPid)).toEqual([]);
      // The stopped run did not remove the lock it lost.
      expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, command: 'sync acme/widgets (the other run)' });
      await theirs.release();
      server.setTrickle(FAST);
      expect((await runCli(['sync', ...args])).code).toBe(0);
      expect(refsOf(join(root, 'immutable/acme/widgets.git'))).toEqual(refsOf(u.bare));
    },
  );
});

describe('the daemon', () => {
  it('stopped mid-run exits 130; stopped while idle exits 0', async () => {
    const { server, args } = await setup();
    const env = { BACKUP_SCHEDULE: '0 2 * * *' };
    const busy = await startFetching(server, ['daemon', '--run-now', ...args], env);
    busy.child.kill('SIGTERM');
    const midRun = await busy.done;
    expect(midRun.stderr).toMatch(/shutdown requested during run 1/);
    expect(midRun.code).toBe(130);
    expect(gitOfRun(busy.pid)).toEqual([]);

    const idle = startCli(['daemon', ...args], env);
    let stderr = '';
    idle.child.stderr!.on('data', (d) => (stderr += d));
    await until('the daemon to wait for its next run', () => /daemon: next run at/.test(stderr));
    idle.child.kill('SIGTERM');
    const stoppedIdle = await idle.done;
    expect(stoppedIdle.code).toBe(0);
    expect(stoppedIdle.stderr).toMatch(/backup-manager: SIGTERM: stopping… \(again to stop at once\)/);
    expect(stoppedIdle.stderr).toMatch(/daemon: stopped after 0 run\(s\)$/m);
  });
});

function readlinkCwd(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}
