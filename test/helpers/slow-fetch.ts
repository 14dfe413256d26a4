// A fetch that stays in flight: an incompressible commit served slowly, and the git processes of one backup run,
// for tests that stop or kill a run mid-fetch (docs/OPERATIONS.md "Stopping and crashes").
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { git, type Upstream } from './git-fixtures.ts';

export const SLOW = { chunkBytes: 32 * 1024, intervalMs: 50 };
export const FAST = { chunkBytes: 1024 * 1024, intervalMs: 1 };
export const BIG = 4 * 1024 * 1024;

/** Live processes started by the backup run with this PID: every git we start carries GPB_RUN=<pid>:<start>. */
export function gitOfRun(runPid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (!readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').some((v) => v.startsWith(`GPB_RUN=${runPid}:`))) continue;
      out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // gone while we looked
    }
  }
  return out;
}

export async function until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function addBigCommit(u: Upstream, name: string): void {
  writeFileSync(join(u.work, name), randomBytes(BIG)); // incompressible: the pack is as big as the file
  git(u.work, 'add', name);
  git(u.work, 'commit', '--quiet', '-m', `add ${name}`);
  u.push('main');
}
