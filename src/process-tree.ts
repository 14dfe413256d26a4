// Processes as Linux's /proc shows them: who our git children are (to stop them with us), and which git processes
// a previous, killed run left working on a repository (to stop them before touching it). See docs/OPERATIONS.md
// "Stopping and crashes". Where /proc is absent every answer is "none": nothing is killed on a guess.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The kernel's short command name (at most 15 characters: "git", "git-remote-http"). */
  comm: string;
  /** R, S, D, Z, ...: a zombie (Z) has exited and only waits to be reaped. */
  state: string;
}

function readStat(pid: number): ProcessInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain spaces and ")": split after the last ")".
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  if (open < 0 || close < open || !fields[0] || !Number.isInteger(ppid)) return null;
  return { pid, ppid, comm: text.slice(open + 1, close), state: fields[0] };
}

export function listProcesses(): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcessInfo[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const info = readStat(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/** Every live descendant of `pid` (children, grandchildren, ...), parents before their children. */
export function descendantsOf(pid: number, processes: ProcessInfo[] = listProcesses()): ProcessInfo[] {
  const byParent = new Map<number, ProcessInfo[]>();
  for (const p of processes) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcessInfo[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      if (child.state === 'Z') continue;
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** Every git we start carries this variable naming our run (pid:start time); its helpers inherit it. */
export const RUN_MARKER_ENV = 'GPB_RUN';

function startTimeOf(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** This process's run marker, "pid:start time". */
export function runMarker(): string {
  return `${process.pid}:${startTimeOf(process.pid) ?? '?'}`;
}

/** Whether the run a marker names is still alive: same PID and the same start time (PIDs are reused). */
export function runAlive(marker: string): boolean {
  const [pid, startTime] = marker.split(':');
  if (!pid || !/^\d+$/.test(pid)) return false;
  const info = readStat(Number(pid));
  return info !== null && info.state !== 'Z' && (startTime === '?' || startTimeOf(Number(pid)) === startTime);
}

export interface ProcessView {
  /** Its cwd, and GIT_DIR from its environment when set (resolved against the cwd). */
  dirs: string[];
  /** RUN_MARKER_ENV from its environment: the backup run that started it, if one did. */
  run: string | null;
}

/** What a process works on; empty when /proc does not let us see (another user's process). */
export function inspectProcess(pid: number): ProcessView {
  const view: ProcessView = { dirs: [], run: null };
  let cwd: string;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return view;
  }
  view.dirs.push(cwd);
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const value = (key: string) => env.find((v) => v.startsWith(`${key}=`))?.slice(key.length + 1);
    const gitDir = value('GIT_DIR');
    if (gitDir) view.dirs.push(gitDir.startsWith('/') ? gitDir : `${cwd}/${gitDir}`);
    view.run = value(RUN_MARKER_ENV) ?? null;
  } catch {
    // environ is private to the process's owner: the cwd alone is what we know.
  }
  return view;
}

/** git and its helpers: "git", "git-remote-http", "git-upload-pack", ... */
export const isGitProcess = (p: ProcessInfo): boolean => p.comm === 'git' || p.comm.startsWith('git-');

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone, or not ours to signal: either way nothing more to do here.
    }
  }
}

function alive(pid: number): boolean {
  const info = readStat(pid);
  return info !== null && info.state !== 'Z';
}

/** Wait until none of `pids` is alive, for at most `timeoutMs`; returns the ones still alive. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(alive);
    if (!left.length || performance.now() >= deadline) return left;
    await sleep(25);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`: returns the processes that survived both (uninterruptible I/O). */
export async function stopProcesses(pids: number[], graceMs: number): Promise<number[]> {
  if (!pids.length) return [];
  signalAll(pids, 'SIGTERM');
  const stubborn = await waitGone(pids, graceMs);
  if (!stubborn.length) return [];
  signalAll(stubborn, 'SIGKILL');
  return waitGone(stubborn, graceMs);
}
