// One writer per repository (docs/ARCHITECTURE.md invariant 6). The lock is a small JSON file naming its owner by host,
// PID and the process start time: a PID alone is not enough inside containers, where every container's first
// process is PID 1, so a lock whose PID is alive but started at another time belongs to a dead run.
//
// Acquisition is atomic without O_EXCL subtleties: the owner record is written and fsynced to a unique temp file
// in the same directory, then hard-linked to the lock path; link(2) fails with EEXIST when the lock is held, and a
// reader never sees a half-written record.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { LockHeldError, UsageError, errorMessage } from './errors.ts';
import type { Logger } from './log.ts';

export interface LockOwner {
  host: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), as a string; null where /proc is absent. */
  startTime: string | null;
  command: string;
  acquiredAt: string;
}

export interface Lock {
  path: string;
  owner: LockOwner;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** What the holder is doing ("sync", "prune", ...): shown to whoever finds the lock held. */
  command: string;
  /** How long to wait for a live holder to release, polling. Default 0: fail at once. */
  waitMs?: number;
  logger?: Logger;
  /** Only stamps `acquiredAt`; waiting uses the real monotonic clock. */
  clock?: () => Date;
}

const OwnerFile = z.object({
  host: z.string(),
  pid: z.number().int().positive(),
  startTime: z.string().nullable(),
  command: z.string(),
  acquiredAt: z.string(),
  // Distinguishes two records that are otherwise equal (same process, same fake clock).
  nonce: z.string().optional(),
});
type OwnerRecord = z.infer<typeof OwnerFile>;

const POLL_MIN_MS = 25;
const POLL_MAX_MS = 250;
// A takeover guard older than this was left by a process that died mid-takeover (which takes microseconds).
const GUARD_STALE_MS = 10_000;

/** Start time of a process from /proc/<pid>/stat, or null when /proc is absent or the process is gone. */
export function processStartTime(pid: number): string | null {
  const stat = readProcStat(pid);
  return stat?.startTime ?? null;
}

function readProcStat(pid: number): { state: string; startTime: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ")": split after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0]; // field 3
  const startTime = fields[19]; // field 22
  if (!state || !startTime || !/^\d+$/.test(startTime)) return null;
  return { state, startTime };
}

type Liveness = { stale: false } | { stale: true; why: string };

/** Whether a same-host holder is certainly gone. Anything uncertain counts as alive. */
function holderLiveness(owner: OwnerRecord): Liveness {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return { stale: true, why: `process ${owner.pid} is gone` };
    // EPERM: the process exists but belongs to another user; it is alive.
  }
  const current = readProcStat(owner.pid);
  if (current?.state === 'Z') return { stale: true, why: `process ${owner.pid} has exited (zombie)` };
  if (owner.startTime !== null && current !== null && current.startTime !== owner.startTime) {
    return {
      stale: true,
      why: `PID ${owner.pid} now belongs to another process (start time ${current.startTime}, recorded ${owner.startTime})`,
    };
  }
  return { stale: false };
}

function describe(owner: OwnerRecord): string {
  return `${owner.command} (pid ${owner.pid} on ${owner.host}, since ${owner.acquiredAt})`;
}

async function writeTemp(dir: string, base: string, record: OwnerRecord): Promise<string> {
  const temp = join(dir, `.${base}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(record)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

async function unlinkQuiet(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

type Observed =
  | { kind: 'absent' }
  | { kind: 'owner'; ino: number; owner: OwnerRecord }
  | { kind: 'unreadable'; ino: number; reason: string };

/** The lock file's inode and content, read through one descriptor so the two belong together. */
async function observe(path: string): Promise<Observed> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  try {
    const { ino } = await handle.stat();
    const text = await handle.readFile('utf8');
    try {
      return { kind: 'owner', ino, owner: OwnerFile.parse(JSON.parse(text)) };
    } catch (error) {
      return { kind: 'unreadable', ino, reason: errorMessage(error) };
    }
  } finally {
    await handle.close();
  }
}

/**
 * Replace a stale lock with ours. A short-lived guard file (itself taken with link) serialises takeovers, and the
 * lock is re-checked under the guard, so two processes that both judged the same lock stale cannot both win.
 */
async function takeOver(path: string, stale: { ino: number; owner: OwnerRecord }, record: OwnerRecord): Promise<'acquired' | 'retry'> {
  const dir = dirname(path);
  const guard = `${path}.takeover`;
  const guardTemp = await writeTemp(dir, basename(guard), record);
  try {
    await link(guardTemp, guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const guardStat = await stat(guard).catch(() => undefined);
    if (guardStat && Date.now() - guardStat.mtimeMs > GUARD_STALE_MS) await unlinkQuiet(guard);
    return 'retry';
  } finally {
    await unlinkQuiet(guardTemp);
  }
  try {
    const now = await observe(path);
    // Same inode and same record: nobody replaced the stale lock since we judged it (inode numbers get reused).
    if (now.kind !== 'owner' || now.ino !== stale.ino || JSON.stringify(now.owner) !== JSON.stringify(stale.owner)) {
      return 'retry';
    }
    const temp = await writeTemp(dir, basename(path), record);
    try {
      await rename(temp, path);
    } catch (error) {
      await unlinkQuiet(temp);
      throw error;
    }
    return 'acquired';
  } finally {
    await unlinkQuiet(guard);
  }
}

export async function acquireLock(path: string, options: AcquireLockOptions): Promise<Lock> {
  const { command, logger } = options;
  const waitMs = options.waitMs ?? 0;
  if (typeof waitMs !== 'number' || Number.isNaN(waitMs) || waitMs < 0) {
    throw new UsageError(`invalid lock wait ${String(waitMs)}: expected milliseconds >= 0`);
  }
  const clock = options.clock ?? (() => new Date());
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });

  const host = hostname();
  const owner: LockOwner = {
    host,
    pid: process.pid,
    startTime: processStartTime(process.pid),
    command,
    acquiredAt: clock().toISOString(),
  };
  const record: OwnerRecord = { ...owner, nonce: randomBytes(8).toString('hex') };
  const deadline = performance.now() + Math.max(0, waitMs);
  let pollMs = POLL_MIN_MS;

  for (;;) {
    const temp = await writeTemp(dir, basename(path), record);
    try {
      await link(temp, path);
      return makeLock(path, owner, record, logger);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlinkQuiet(temp);
    }

    const held = await observe(path);
    if (held.kind === 'absent') continue; // released between our link and our read: try again at once

    let blocker: string;
    if (held.kind === 'unreadable') {
      blocker =
        `lock ${path} is held but its owner record is unreadable (${held.reason}); ` +
        `remove the file if no backup run is active`;
    } else if (held.owner.host !== host) {
      // We cannot see another host's processes: its lock is never taken over automatically.
      blocker =
        `lock ${path} is held by ${describe(held.owner)}; it belongs to another host, so it is never taken over ` +
        `automatically: remove the lock file if that host's run is gone`;
    } else {
      const liveness = holderLiveness(held.owner);
      if (liveness.stale) {
        const outcome = await takeOver(path, held, record);
        if (outcome === 'acquired') {
          logger?.log('warn', `took over stale lock from ${held.owner.host}/${held.owner.pid}: ${liveness.why}`, {
            lock: path,
            previousCommand: held.owner.command,
            previousSince: held.owner.acquiredAt,
          });
          return makeLock(path, owner, record, logger);
        }
        // Another process is taking it over (or just did): look again shortly, even past the deadline.
        await sleep(POLL_MIN_MS);
        continue;
      }
      blocker = `lock ${path} is held by ${describe(held.owner)}`;
    }

    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      throw new LockHeldError(waitMs > 0 ? `${blocker} (waited ${waitMs} ms)` : blocker);
    }
    await sleep(Math.min(pollMs, remaining));
    pollMs = Math.min(POLL_MAX_MS, pollMs * 2);
  }
}

function makeLock(path: string, owner: LockOwner, record: OwnerRecord, logger: Logger | undefined): Lock {
  let released = false;
  return {
    path,
    owner,
    async release() {
      if (released) return;
      released = true;
      const now = await observe(path);
      // Only our own record (same nonce) is removed: after a manual removal someone else may hold it now.
      if (now.kind === 'owner' && now.owner.nonce === record.nonce && now.owner.pid === record.pid) {
        await unlinkQuiet(path);
      } else if (now.kind !== 'absent') {
        logger?.log('warn', `lock ${path} is no longer ours; left in place`, {
          holder: now.kind === 'owner' ? describe(now.owner) : 'unreadable',
        });
      }
    },
  };
}

/** Run `fn` holding the lock; the lock is released however `fn` ends. */
export async function withLock<T>(path: string, options: AcquireLockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
