// The lock with real processes: children run the real module (bundled with esbuild, since Node 20 cannot import
// .ts files), get killed with SIGKILL, and race each other.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockHeldError, UsageError } from '../src/errors.ts';
import { acquireLock, DEFAULT_LEASE_MS, processStartTime, withLock, type LockOwner } from '../src/lock.ts';
import type { Logger, LogLevel } from '../src/log.ts';

let work: string;
let childScript: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gpb-lock-'));
  await build({
    entryPoints: [resolve(import.meta.dirname, '../src/lock.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(work, 'lock.mjs'),
    logLevel: 'silent',
  });
  childScript = join(work, 'child.mjs');
  // argv: lock path, hold ms ("forever" = until killed). Prints "acquired" / "released" / "error <code> <msg>".
  writeFileSync(
    childScript,
    `import { acquireLock } from './lock.mjs';
const [path, hold, waitMs = '0'] = process.argv.slice(2);
try {
  const lock = await acquireLock(path, { command: 'child-sync', waitMs: Number(waitMs) });
  console.log('acquired');
  if (hold === 'forever') setInterval(() => {}, 60_000);
  else {
    await new Promise((r) => setTimeout(r, Number(hold)));
    await lock.release();
    console.log('released');
  }
} catch (e) {
  console.log('error ' + e.exitCode + ' ' + e.message);
  process.exitCode = e.exitCode ?? 1;
}
`,
  );
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const children: ChildProcess[] = [];
let counter = 0;
const lockPath = () => join(work, `case-${++counter}`, 'state', 'locks', 'repo.lock');

function runChild(path: string, hold: string, waitMs = 0, env: NodeJS.ProcessEnv = {}, wrapper: string[] = []) {
  const argv = [...wrapper, process.execPath, childScript, path, hold, String(waitMs)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) if (out.includes(w.text)) w.resolve();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => out,
    exited,
    waitFor: (text: string) =>
      new Promise<void>((res, rej) => {
        if (out.includes(text)) return res();
        waiters.push({ text, resolve: res });
        void exited.then(() => (out.includes(text) ? res() : rej(new Error(`child exited without "${text}": ${out}`))));
      }),
  };
}

function bwrapWorks(): boolean {
  return spawnSync('bwrap', ['--unshare-pid', '--dev-bind', '/', '/', 'true']).status === 0;
}

function recordingLogger() {
  const lines: { level: LogLevel; message: string }[] = [];
  const logger: Logger = { log: (level, message) => void lines.push({ level, message }) };
  return { logger, lines };
}

function writeLockByHand(path: string, owner: LockOwner) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(owner));
}

describe('acquireLock', () => {
  it('creates parent directories and records host, pid, start time and command', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, { command: 'sync', clock: () => new Date('2026-01-02T03:04:05Z') });
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    expect(onDisk).toMatchObject({
      host: hostname(),
      pid: process.pid,
      command: 'sync',
      acquiredAt: '2026-01-02T03:04:05.000Z',
    });
    // On Linux the start time comes from /proc and must match what the kernel says about us.
    expect(onDisk.startTime).toMatch(/^\d+$/);
    expect(onDisk.startTime).toBe(processStartTime(process.pid));
    expect(lock.owner.pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(path)).toBe(false);
    // No temp files left beside the lock.
    expect(readdirSync(join(path, '..'))).toEqual([]);
  });

  it('a second process gets LockHeldError (exit code 4) naming the holder', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, { command: 'sync' });
    const contender = runChild(path, '0');
    expect(await contender.exited).toBe(4);
    expect(contender.output()).toContain(`held by sync (pid ${process.pid} on ${hostname()}`);
    await lock.release();
  });

  it('fails while a live child holds the lock, naming it', async () => {
    const path = lockPath();
    const holder = runChild(path, 'forever');
    await holder.waitFor('acquired');
    const error = await acquireLock(path, { command: 'prune' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).exitCode).toBe(4);
    expect((error as Error).message).toContain(`child-sync (pid ${holder.child.pid} on ${hostname()}`);
    holder.child.kill('SIGKILL');
    await holder.exited;
  });

  it('takes over a lock left by a killed process and says so in the log', async () => {
    const path = lockPath();
    const holder = runChild(path, 'forever');
    await holder.waitFor('acquired');
    const deadPid = holder.child.pid!;
    holder.child.kill('SIGKILL');
    await holder.exited; // reaped: the PID is really gone, not a zombie
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(deadPid);

    const { logger, lines } = recordingLogger();
    const lock = await acquireLock(path, { command: 'sync', logger });
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.message).toContain(`took over stale lock from ${hostname()}/${deadPid}`);
    await lock.release();
  });

  it('takes over a lock whose PID is alive but belongs to another process (PID reuse, PID 1 in containers)', async () => {
    const path = lockPath();
    // Our own PID is certainly alive; the recorded start time says the lock was taken by an earlier process.
    const current = processStartTime(process.pid)!;
    const recorded = String(Number(current) - 1);
    writeLockByHand(path, { host: hostname(), pid: process.pid, startTime: recorded, command: 'sync', acquiredAt: 'x' });
    const { logger, lines } = recordingLogger();
    const lock = await acquireLock(path, { command: 'sync', logger });
    expect(lines[0]!.message).toContain(`took over stale lock from ${hostname()}/${process.pid}`);
    expect(lines[0]!.message).toContain(`recorded ${recorded}`);
    await lock.release();
  });

  it('does not take over a live process whose start time matches', async () => {
    const path = lockPath();
    const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)']);
    children.push(sleeper);
    const startTime = processStartTime(sleeper.pid!);
    expect(startTime).toMatch(/^\d+$/);
    writeLockByHand(path, { host: hostname(), pid: sleeper.pid!, startTime, command: 'sync', acquiredAt: 'x' });
    await expect(acquireLock(path, { command: 'sync' })).rejects.toThrow(LockHeldError);
    sleeper.kill('SIGKILL');
    await once(sleeper, 'exit');
    // Once it is dead, the same record is stale.
    const lock = await acquireLock(path, { command: 'sync' });
    await lock.release();
  });

  it('another host\'s lock is held while its lease is fresh and taken over once it ran out', async () => {
    const path = lockPath();
    writeLockByHand(path, { host: 'other-host', pid: 999_999_999, startTime: '1', command: 'sync', acquiredAt: 'x', leaseMs: 60_000 });
    const error = (await acquireLock(path, { command: 'sync' }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(LockHeldError);
    expect(error.message).toContain('on other-host');
    expect(error.message).toMatch(/renewed its lease \d+(\.\d)? s ago; it is taken over once not renewed for 60 s/);
    expect(JSON.parse(readFileSync(path, 'utf8')).host).toBe('other-host');

    // The same record, last renewed 61 s ago: its holder is gone, whatever host it ran on.
    const past = new Date(Date.now() - 61_000);
    utimesSync(path, past, past);
    const { logger, lines } = recordingLogger();
    const lock = await acquireLock(path, { command: 'sync', logger });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ host: hostname(), pid: process.pid });
    expect(lines[0]!.message).toMatch(/took over stale lock from other-host\/999999999: its lease was last renewed 61(\.\d)? s ago, longer than its 60 s lease/);
    await lock.release();
  });

  it('a record from before leases (no lease recorded) from another host expires after the default lease', async () => {
    const path = lockPath();
    writeLockByHand(path, { host: 'other-host', pid: 4242, startTime: '1', command: 'sync', acquiredAt: 'x' });
    await expect(acquireLock(path, { command: 'sync' })).rejects.toThrow(/taken over once not renewed for 120 s/);
    const past = new Date(Date.now() - DEFAULT_LEASE_MS - 1_000);
    utimesSync(path, past, past);
    await (await acquireLock(path, { command: 'sync' })).release();
  });

  it('a heartbeat far in the future (clock skew) is never taken over', async () => {
    const path = lockPath();
    writeLockByHand(path, { host: 'other-host', pid: 4242, startTime: '1', command: 'sync', acquiredAt: 'x', leaseMs: 1_000 });
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(path, future, future);
    await expect(acquireLock(path, { command: 'sync' })).rejects.toThrow(/in the future \(clock skew/);
  });

  it('a live holder renews its heartbeat, so a run longer than the lease keeps its lock; once killed, it is taken over', async () => {
    const path = lockPath();
    const holder = runChild(path, 'forever', 0, { BACKUP_LOCK_LEASE_MS: '400' });
    await holder.waitFor('acquired');
    const record = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    expect(record.leaseMs).toBe(400);
    expect(record.pidNamespace).toBe(readlinkSync('/proc/self/ns/pid'));
    // Pretend it runs on another host, where its PID means nothing to us: rewritten in place (the same inode, which
    // the holder keeps renewing), only the heartbeat can keep it.
    writeFileSync(path, JSON.stringify({ ...record, host: 'other-host' }));
    const firstBeat = statSync(path).mtimeMs;
    await sleep(1_000); // 2.5 leases
    expect(statSync(path).mtimeMs).toBeGreaterThan(firstBeat);
    await expect(acquireLock(path, { command: 'sync' })).rejects.toThrow(/on other-host.*renewed its lease/);

    holder.child.kill('SIGKILL');
    await holder.exited;
    await sleep(600);
    const { logger, lines } = recordingLogger();
    const lock = await acquireLock(path, { command: 'sync', logger });
    expect(lines[0]!.message).toContain('its lease was last renewed');
    await lock.release();
  });

  it.skipIf(!bwrapWorks())('a holder in another PID namespace (a recreated container, same hostname) is judged by its lease, not by its PID', async () => {
    const path = lockPath();
    mkdirSync(dirname(path), { recursive: true });
    // bwrap --unshare-pid gives the holder its own PID namespace, as a new container gets: the PID it records
    // (2 or so) names some unrelated process out here, or none.
    const holder = runChild(path, 'forever', 0, { BACKUP_LOCK_LEASE_MS: '500' }, ['bwrap', '--unshare-pid', '--die-with-parent', '--dev-bind', '/', '/']);
    await holder.waitFor('acquired');
    const record = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    expect(record.host).toBe(hostname());
    expect(record.pidNamespace).not.toBe(readlinkSync('/proc/self/ns/pid'));
    expect(record.pid).not.toBe(holder.child.pid);
    await sleep(1_200);
    await expect(acquireLock(path, { command: 'sync' })).rejects.toThrow(/in another PID namespace on this host/);

    holder.child.kill('SIGKILL'); // bwrap is PID 1's parent: the whole namespace goes with it
    await holder.exited;
    await sleep(700);
    const lock = await acquireLock(path, { command: 'sync' });
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('refuses an unreadable lock file instead of guessing', async () => {
    const path = lockPath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'not json');
    await expect(acquireLock(path, { command: 'sync' })).rejects.toThrow(/unreadable/);
    expect(readFileSync(path, 'utf8')).toBe('not json');
  });

  it('waits for a holder that releases within waitMs', async () => {
    const path = lockPath();
    const holder = runChild(path, '400');
    await holder.waitFor('acquired');
    const started = performance.now();
    const lock = await acquireLock(path, { command: 'sync', waitMs: 10_000 });
    const waited = performance.now() - started;
    expect(holder.output()).toContain('released');
    expect(waited).toBeGreaterThan(100);
    expect(waited).toBeLessThan(5_000);
    await lock.release();
    expect(await holder.exited).toBe(0);
  });

  it('gives up after waitMs when the holder keeps the lock', async () => {
    const path = lockPath();
    const holder = runChild(path, 'forever');
    await holder.waitFor('acquired');
    const started = performance.now();
    await expect(acquireLock(path, { command: 'sync', waitMs: 300 })).rejects.toThrow(/waited 300 ms/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    holder.child.kill('SIGKILL');
    await holder.exited;
  });

  it('release removes only our own lock', async () => {
    const path = lockPath();
    const { logger, lines } = recordingLogger();
    const lock = await acquireLock(path, { command: 'sync', logger });
    // Someone removed our lock by hand and another run took it: our release must not delete theirs.
    const theirs = { host: 'other-host', pid: 4242, startTime: '7', command: 'sync', acquiredAt: 'x' };
    writeFileSync(path, JSON.stringify(theirs));
    await lock.release();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(theirs);
    expect(lines[0]?.message).toContain('no longer ours');
  });

  it('two concurrent acquisitions in one process: exactly one wins', async () => {
    const path = lockPath();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(path, { command: 'sync' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LockHeldError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
  });

  it('concurrent takeovers of one stale lock in one process: exactly one wins, one log line', async () => {
    const path = lockPath();
    const dead = spawn(process.execPath, ['-e', '0']);
    await once(dead, 'exit');
    writeLockByHand(path, { host: hostname(), pid: dead.pid!, startTime: '1', command: 'sync', acquiredAt: 'x' });
    const { logger, lines } = recordingLogger();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => acquireLock(path, { command: 'sync', logger })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(lines.filter((l) => l.message.startsWith('took over stale lock'))).toHaveLength(1);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
    expect(readdirSync(dirname(path))).toEqual([]); // no guard or temp file left behind
  });

  it('several processes racing for one stale lock: exactly one takes it over', async () => {
    const path = lockPath();
    const dead = spawn(process.execPath, ['-e', '0']);
    await once(dead, 'exit');
    writeLockByHand(path, { host: hostname(), pid: dead.pid!, startTime: '1', command: 'sync', acquiredAt: 'x' });
    // The winner holds until killed, so however slowly the others start, they find it held.
    const racers = Array.from({ length: 4 }, () => runChild(path, 'forever'));
    const outcomes = await Promise.all(
      racers.map((r) =>
        r.waitFor('acquired').then(
          () => 'acquired',
          async () => `exit ${await r.exited}`,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'acquired')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'exit 4')).toHaveLength(3);
    const winner = racers[outcomes.indexOf('acquired')]!;
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(winner.child.pid);
    winner.child.kill('SIGKILL');
    await winner.exited;
  });

  it('tells its holder once when the lock is taken over or removed while held', async () => {
    const path = lockPath();
    const lost: string[] = [];
    const lock = await acquireLock(path, { command: 'sync', leaseMs: 100, onLost: (why) => lost.push(why) });
    await sleep(150);
    expect(lost).toEqual([]); // renewing our own lock is not losing it
    // Another run's record replaces ours (a takeover renames a new file into place).
    writeFileSync(`${path}.other`, JSON.stringify({ host: 'other-host', pid: 4242, startTime: '7', command: 'sync', acquiredAt: 'x' }));
    renameSync(`${path}.other`, path);
    await sleep(150);
    expect(lost).toEqual([`lock ${path} was taken over by another run`]);
    await sleep(100);
    expect(lost).toHaveLength(1);
    await lock.release();
    expect(JSON.parse(readFileSync(path, 'utf8')).host).toBe('other-host');

    const second = lockPath();
    const gone: string[] = [];
    const held = await acquireLock(second, { command: 'sync', leaseMs: 100, onLost: (why) => gone.push(why) });
    rmSync(second);
    await sleep(150);
    expect(gone).toEqual([`lock ${second} was removed`]);
    await held.release();
  });

  it('rejects a nonsensical wait with a usage error', async () => {
    await expect(acquireLock(lockPath(), { command: 'sync', waitMs: Number.NaN })).rejects.toThrow(UsageError);
    await expect(acquireLock(lockPath(), { command: 'sync', waitMs: -1 })).rejects.toThrow(UsageError);
  });

  it('withLock releases when the work throws', async () => {
    const path = lockPath();
    await expect(
      withLock(path, { command: 'sync' }, async () => {
        expect(existsSync(path)).toBe(true);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(path)).toBe(false);
    expect(await withLock(path, { command: 'sync' }, async () => 42)).toBe(42);
  });
});
