// Bounds on a silent network (docs/OPERATIONS.md "A network that stops answering"): git's own stall detection for
// http(s), and an overall deadline per repository that kills whatever git is still running when it passes.
// The deadline follows the repository's work through AsyncLocalStorage, so every git call made for that
// repository (ls-remote, fetch, push, the helpers it starts) is bounded without threading a signal through them.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { stopProcesses } from '../process-tree.ts';
import { markedProcesses } from './marked-processes.ts';

/** Set in the environment of every git started under a deadline, so its helpers can be found and stopped too. */
export const DEADLINE_MARKER_ENV = 'GPB_REPO_DEADLINE';

/** http(s) transfers slower than 1 byte/s for this long are abandoned by git (http.lowSpeedTime). */
export const DEFAULT_STALL_SECONDS = 600;
/** Everything one repository's writer run does (init, sync, snapshot, prune, restore in place). */
export const DEFAULT_REPO_TIMEOUT_SECONDS = 6 * 3600;

function secondsFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`invalid ${name} ${JSON.stringify(raw)}: expected seconds >= 0 (0 turns the bound off)`);
  return value;
}

/** BACKUP_STALL_SECONDS: 0 turns git's stall detection off. Whole seconds (git's unit), at least 1. */
export function stallSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = secondsFromEnv('BACKUP_STALL_SECONDS', DEFAULT_STALL_SECONDS, env);
  return seconds === 0 ? 0 : Math.max(1, Math.round(seconds));
}

/** BACKUP_REPO_TIMEOUT_SECONDS: 0 means no deadline. Fractions are allowed (tests). */
export function repoTimeoutSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return secondsFromEnv('BACKUP_REPO_TIMEOUT_SECONDS', DEFAULT_REPO_TIMEOUT_SECONDS, env);
}

/** git config for a bounded stall: arguments for every git call (no effect on local or ssh transports). */
export function stallConfig(stallSeconds: number): string[] {
  return stallSeconds > 0 ? ['-c', 'http.lowSpeedLimit=1', '-c', `http.lowSpeedTime=${stallSeconds}`] : [];
}

export interface Deadline {
  /** Aborted when the deadline passes. */
  signal: AbortSignal;
  /** The value of DEADLINE_MARKER_ENV in the environment of this deadline's git processes. */
  marker: string;
  /** What is bounded, for the error: "sync acme/widgets". */
  what: string;
  seconds: number;
}

const current = new AsyncLocalStorage<Deadline>();

/** The deadline of the repository whose work is running here, if any. */
export function currentDeadline(): Deadline | undefined {
  return current.getStore();
}

/** setTimeout fires at once beyond this (about 24.8 days): longer deadlines are capped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** SIGTERM, then SIGKILL after this grace: git removes its temporary files on SIGTERM. */
const KILL_GRACE_MS = 1000;

/**
 * Run `fn` with a deadline: git calls made inside it are killed once `seconds` have passed (0: no deadline). A stop
 * on request (`parent`) aborts the deadline's signal too, so git calls need only this one signal.
 */
export async function withDeadline<T>(seconds: number, what: string, fn: () => Promise<T>, parent?: AbortSignal): Promise<T> {
  if (!(seconds > 0)) return fn();
  const controller = new AbortController();
  const marker = randomBytes(8).toString('hex');
  const timer = setTimeout(() => {
    controller.abort();
    // The executor interrupts the git it started (spawn.ts); the helpers git started (git-remote-http, ssh) outlive it and hold its
    // output pipes open, so they are found by the marker in their environment and stopped too.
    stopProcesses(markedProcesses(DEADLINE_MARKER_ENV, marker), KILL_GRACE_MS).catch(() => undefined);
  }, Math.min(seconds * 1000, MAX_TIMER_MS));
  const onStop = () => controller.abort();
  if (parent?.aborted) controller.abort();
  else parent?.addEventListener('abort', onStop, { once: true });
  try {
    return await current.run({ signal: controller.signal, marker, what, seconds }, fn);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onStop);
  }
}

export function deadlineMessage(deadline: Deadline, step: string): string {
  return `${deadline.what} passed its deadline of ${deadline.seconds} s during ${step}; git was stopped (BACKUP_REPO_TIMEOUT_SECONDS raises it)`;
}
