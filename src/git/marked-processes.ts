// Processes carrying a marker in their environment, found through /proc (Linux: the container and CI). git starts
// helpers (git-remote-http, ssh) that inherit its environment but not its fate: once git is killed they are
// re-parented away from us (so not our descendants any more), blocked on a silent socket, holding git's output pipes
// open, and the caller would wait for them forever. Stopping them is process-tree.ts's stopProcesses.
import { readdirSync, readFileSync } from 'node:fs';

/** PIDs (other than ours) whose environment holds `name=value`. */
export function markedProcesses(name: string, value: string): number[] {
  const needle = Buffer.from(`${name}=${value}\0`);
  const found: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return found; // no /proc: nothing we can find
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`);
      const at = environ.indexOf(needle);
      if (at === 0 || (at > 0 && environ[at - 1] === 0)) found.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
