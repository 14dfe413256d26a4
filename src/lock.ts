// One writer per repository (docs/ARCHITECTURE.md invariant 6). The lock is a small JSON file naming its owner by host,
// PID namespace, PID and the process start time: a PID alone is not enough inside containers, where every
// container's first process is PID 1, so a lock whose PID is alive but started at another time belongs to a dead run.
//
// The lock is also a lease (docs/OPERATIONS.md "Locks"): while it is held, a timer renews the file's mtime (the
// heartbeat). A holder whose processes we cannot see (another host, or another PID namespace: a recreated
// container) is judged by its heartbeat alone and taken over once it has not been renewed for its lease.
//
// Acquisition is atomic without O_EXCL subtleties: the owner record is written and fsynced to a unique temp file
// in the same directory, then hard-linked to the lock path; link(2) fails with EEXIST when the lock is held, and a
// reader never sees a half-written record.
//
// Every run takes and releases one lock per repository, so its file work is on the engine's one thread a thousand
// times a run: reading and creating the small files is synchronous (src/small-fs.ts); the fsync and the removals,
// which can wait for the disk, run in the thread pool.
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsync, futimesSync, linkSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
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
  /** /proc/self/ns/pid of the holder ("pid:[4026531836]"): PIDs only mean something inside the same namespace. */
  pidNamespace?: string | null;
  /** How long the holder's heartbeat may go unrenewed before anyone may take the lock over. */
  leaseMs?: number;
}

export interface Lock {
  path: string;
  owner: LockOwner;
  /** Taken over from a holder judged stale (dead, or its lease ran out): what it was doing may be half done. */
  tookOver: boolean;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** What the holder is doing ("sync", "prune", ...): shown to whoever finds the lock held. */
  command: string;
  /** How long to wait for a live holder to release, polling. Default 0: fail at once. */
  waitMs?: number;
  logger?: Logger;
  /** Only stamps `acquiredAt`; waiting uses the real monotonic clock, the lease the real wall clock. */
  clock?: () => Date;
  /** The lease this holder promises to renew; default $BACKUP_LOCK_LEASE_MS or 120 s. */
  leaseMs?: number;
  /** Called once if the heartbeat finds the lock taken over or removed while held: the holder must stop writing. */
  onLost?: (why: string) => void;
}

const OwnerFile = z.object({
  host: z.string(),
  pid: z.number().int().positive(),
  startTime: z.string().nullable(),
  command: z.string(),
  acquiredAt: z.string(),
  pidNamespace: z.string().nullable().optional(),
  leaseMs: z.number().int().positive().optional(),
  // Distinguishes two records that are otherwise equal (same process, same fake clock).
  nonce: z.string().optional(),
});
type OwnerRecord = z.infer<typeof OwnerFile>;

const POLL_MIN_MS = 25;
const POLL_MAX_MS = 250;
// A takeover guard older than this was left by a process that died mid-takeover (which takes microseconds).
const GUARD_STALE_MS = 10_000;
// Long enough that a busy event loop or a clock a little off between hosts never loses a live lock; short enough
// that a repository whose container was recreated mid-run is backed up again within minutes.
export const DEFAULT_LEASE_MS = 120_000;
// A heartbeat every quarter lease: three renewals may be missed before the lease runs out.
const RENEWALS_PER_LEASE = 4;

/** The lease a new holder promises: $BACKUP_LOCK_LEASE_MS (milliseconds) or the default. */
export function defaultLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BACKUP_LOCK_LEASE_MS;
  if (raw === undefined || raw === '') return DEFAULT_LEASE_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 100) throw new UsageError(`invalid BACKUP_LOCK_LEASE_MS ${JSON.stringify(raw)}: expected whole milliseconds >= 100`);
  return value;
}

/** The PID namespace of this process, or null where /proc is absent. */
export function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

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

type Liveness = { stale: false; why?: string } | { stale: true; why: string };

/** A holder we can see (same host, same PID namespace) is judged by its process; any other by its lease. */
function judge(held: { owner: OwnerRecord; mtimeMs: number }, host: string, namespace: string | null): Liveness {
  const { owner } = held;
  // A record without a namespace comes from before leases: on the same host it was judged by PID, as it still is.
  const sameView = owner.host === host && (owner.pidNamespace ?? namespace) === namespace;
  if (sameView) return holderLiveness(owner);
  return leaseLiveness(held);
}

function leaseLiveness({ owner, mtimeMs }: { owner: OwnerRecord; mtimeMs: number }): Liveness {
  const leaseMs = owner.leaseMs ?? DEFAULT_LEASE_MS;
  const age = Date.now() - mtimeMs;
  const where = owner.host === hostname() ? 'in another PID namespace on this host (a recreated container?)' : `on another host`;
  if (age > leaseMs) {
    return { stale: true, why: `its lease was last renewed ${seconds(age)} ago, longer than its ${seconds(leaseMs)} lease (holder ${where})` };
  }
  if (age < -leaseMs) {
    // The holder's clock is ahead of ours by more than a lease: its heartbeat cannot be judged, so it is kept.
    return { stale: false, why: `its heartbeat is ${seconds(-age)} in the future (clock skew between hosts?): remove the lock file if that run is gone` };
  }
  return { stale: false, why: `it runs ${where} and renewed its lease ${seconds(Math.max(0, age))} ago; it is taken over once not renewed for ${seconds(leaseMs)}` };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

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

interface Temp {
  path: string;
  /** Open on the record's inode: once linked into place, the holder renews the heartbeat through it. */
  fd: number;
}

const fsyncFd = promisify(fsync);

async function writeTemp(dir: string, base: string, record: OwnerRecord): Promise<Temp> {
  const path = join(dir, `.${base}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'wx', 0o644);
  try {
    writeFileSync(fd, `${JSON.stringify(record)}\n`);
    await fsyncFd(fd);
  } catch (error) {
    closeQuiet(fd);
    await unlinkQuiet(path);
    throw error;
  }
  return { path, fd };
}

async function discard(temp: Temp): Promise<void> {
  closeQuiet(temp.fd);
  await unlinkQuiet(temp.path);
}

function closeQuiet(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

async function unlinkQuiet(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

type Observed =
  | { kind: 'absent' }
  | { kind: 'owner'; ino: number; mtimeMs: number; owner: OwnerRecord }
  | { kind: 'unreadable'; ino: number; reason: string };

/** The lock file's inode and content, read through one descriptor so the two belong together. */
function observe(path: string): Observed {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  try {
    const { ino, mtimeMs } = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    try {
      return { kind: 'owner', ino, mtimeMs, owner: OwnerFile.parse(JSON.parse(text)) };
    } catch (error) {
      return { kind: 'unreadable', ino, reason: errorMessage(error) };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace a stale lock with ours. A short-lived guard file (itself taken with link) serialises takeovers, and the
 * lock is re-checked under the guard, so two processes that both judged the same lock stale cannot both win.
 * Returns our record's descriptor, open on the lock's inode, when we won.
 */
async function takeOver(path: string, stale: { ino: number; mtimeMs: number; owner: OwnerRecord }, record: OwnerRecord): Promise<number | 'retry'> {
  const dir = dirname(path);
  const guard = `${path}.takeover`;
  const guardTemp = await writeTemp(dir, basename(guard), record);
  try {
    linkSync(guardTemp.path, guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const guardStat = statSync(guard, { throwIfNoEntry: false });
    if (guardStat && Date.now() - guardStat.mtimeMs > GUARD_STALE_MS) await unlinkQuiet(guard);
    return 'retry';
  } finally {
    await discard(guardTemp);
  }
  try {
    const now = observe(path);
    // Same inode, same record, same heartbeat: nobody replaced or renewed the stale lock since we judged it (inode
    // numbers get reused).
    if (
      now.kind !== 'owner' ||
      now.ino !== stale.ino ||
      now.mtimeMs !== stale.mtimeMs ||
      JSON.stringify(now.owner) !== JSON.stringify(stale.owner)
    ) {
      return 'retry';
    }
    const temp = await writeTemp(dir, basename(path), record);
    try {
      renameSync(temp.path, path);
    } catch (error) {
      await discard(temp);
      throw error;
    }
    return temp.fd;
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
  const leaseMs = options.leaseMs ?? defaultLeaseMs();
  if (!Number.isInteger(leaseMs) || leaseMs < 1) throw new UsageError(`invalid lock lease ${String(leaseMs)}: expected whole milliseconds > 0`);
  const clock = options.clock ?? (() => new Date());
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });

  const host = hostname();
  const namespace = pidNamespace();
  const owner: LockOwner = {
    host,
    pid: process.pid,
    startTime: processStartTime(process.pid),
    command,
    acquiredAt: clock().toISOString(),
    pidNamespace: namespace,
    leaseMs,
  };
  const record: OwnerRecord = { ...owner, nonce: randomBytes(8).toString('hex') };
  const deadline = performance.now() + Math.max(0, waitMs);
  let pollMs = POLL_MIN_MS;

  for (;;) {
    const temp = await writeTemp(dir, basename(path), record);
    try {
      linkSync(temp.path, path);
      await unlinkQuiet(temp.path);
      return makeLock(path, owner, record, temp.fd, options, false);
    } catch (error) {
      await discard(temp);
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const held = observe(path);
    if (held.kind === 'absent') continue; // released between our link and our read: try again at once

    let blocker: string;
    if (held.kind === 'unreadable') {
      blocker =
        `lock ${path} is held but its owner record is unreadable (${held.reason}); ` +
        `remove the file if no backup run is active`;
    } else {
      const liveness = judge(held, host, namespace);
      if (liveness.stale) {
        const outcome = await takeOver(path, held, record);
        if (outcome !== 'retry') {
          logger?.log('warn', `took over stale lock from ${held.owner.host}/${held.owner.pid}: ${liveness.why}`, {
            lock: path,
            previousCommand: held.owner.command,
            previousSince: held.owner.acquiredAt,
          });
          return makeLock(path, owner, record, outcome, options, true);
        }
        // Another process is taking it over (or just did): look again shortly, even past the deadline.
        await sleep(POLL_MIN_MS);
        continue;
      }
      blocker = `lock ${path} is held by ${describe(held.owner)}${liveness.why ? `; ${liveness.why}` : ''}`;
    }

    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      throw new LockHeldError(waitMs > 0 ? `${blocker} (waited ${waitMs} ms)` : blocker);
    }
    await sleep(Math.min(pollMs, remaining));
    pollMs = Math.min(POLL_MAX_MS, pollMs * 2);
  }
}

/**
 * Renew the heartbeat (the lock file's mtime) through our own descriptor, so a renewal can never touch a record
 * that replaced ours. Finding the path on another inode means someone took the lock over: said once, loudly.
 */
function startHeartbeat(path: string, leaseMs: number, fd: number, logger: Logger | undefined, onLost: ((why: string) => void) | undefined): () => void {
  let lost = false;
  let warned = false;
  const beat = () => {
    if (lost) return;
    const now = new Date();
    try {
      futimesSync(fd, now, now);
    } catch (error) {
      // Not lost yet: the lease still runs, and the next beat may succeed.
      if (!warned) logger?.log('warn', `lock ${path} could not be renewed: ${errorMessage(error)}; another run may take it over`);
      warned = true;
    }
    let ours, onDisk;
    try {
      ours = fstatSync(fd);
    } catch {
      return; // our own descriptor: only closed once the heartbeat has stopped
    }
    try {
      onDisk = statSync(path, { throwIfNoEntry: false });
    } catch {
      onDisk = undefined; // unreadable counts as removed, as it always did
    }
    if (onDisk && onDisk.ino === ours.ino) return;
    // Taken over (our heartbeat lapsed: the process was stopped or suspended longer than the lease) or removed.
    lost = true;
    const why = onDisk ? `lock ${path} was taken over by another run` : `lock ${path} was removed`;
    logger?.log('error', `${why} while this run held it`);
    onLost?.(why);
  };
  const timer = setInterval(beat, Math.max(20, Math.floor(leaseMs / RENEWALS_PER_LEASE)));
  // The heartbeat alone never keeps the process alive.
  timer.unref();
  return () => {
    clearInterval(timer);
    closeQuiet(fd);
  };
}

function makeLock(path: string, owner: LockOwner, record: OwnerRecord, fd: number, options: AcquireLockOptions, tookOver: boolean): Lock {
  const { logger } = options;
  let released = false;
  const stopHeartbeat = startHeartbeat(path, record.leaseMs ?? DEFAULT_LEASE_MS, fd, logger, options.onLost);
  return {
    path,
    owner,
    tookOver,
    async release() {
      if (released) return;
      released = true;
      stopHeartbeat();
      const now = observe(path);
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
export async function withLock<T>(path: string, options: AcquireLockOptions, fn: (lock: Lock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
