// A stand-in for the hardened container, for machines without a Docker engine: bubblewrap (bwrap) builds a mount
// namespace whose root is read-only, with only the "volumes" and a fresh /tmp writable, and the command runs as
// UID/GID 1001 with no capabilities, like `read_only: true`, `tmpfs: /tmp`, `cap_drop: [ALL]` and `user: 1001:1001`
// in docker-compose.github-backup.yml.
//
// Two ways to become 1001:
//  - as root (CI containers, this machine): bwrap sets up the mounts with root's privileges, then setpriv drops to the
//    real UID/GID 1001 with an empty capability bounding set. Files written are really owned by 1001 on the host.
//  - as any other user: bwrap --unshare-user maps the caller to 1001 inside a user namespace (needs unprivileged
//    user namespaces). Files are owned by the caller on the host, and appear as 1001 inside.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export const SANDBOX_UID = 1001;
export const SANDBOX_GID = 1001;

export interface Mount {
  /** Directory (or file) on the host. */
  host: string;
  /** Where it appears inside the sandbox. */
  sandbox: string;
}

export interface SandboxOptions {
  /** Writable mounts: the container's volumes. Applied in order (a parent before its children). */
  volumes: Mount[];
  /** Read-only mounts added on top of the read-only root (inputs that live under the host's /tmp, say). */
  readOnly?: Mount[];
  /** The whole environment of the command (nothing is inherited): keep secrets here, never in argv. */
  env: Record<string, string>;
  cwd?: string;
}

export type SandboxMode = 'root-setpriv' | 'userns';

let probed: { mode: SandboxMode } | { mode: null; reason: string } | undefined;

function which(tool: string): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  return found === '' ? null : found;
}

/** How the sandbox can run here, or why it cannot (bwrap missing, user namespaces forbidden). */
export function sandboxMode(): { mode: SandboxMode } | { mode: null; reason: string } {
  if (probed) return probed;
  if (!which('bwrap')) {
    probed = { mode: null, reason: 'bwrap is not installed (Debian package bubblewrap; .ci/run installs it)' };
    return probed;
  }
  const isRoot = process.getuid?.() === 0;
  if (isRoot && !which('setpriv')) {
    probed = { mode: null, reason: 'setpriv (util-linux) is not installed' };
    return probed;
  }
  const mode: SandboxMode = isRoot ? 'root-setpriv' : 'userns';
  const probe = runInSandbox(['/bin/sh', '-c', 'id -u; id -g'], { volumes: [], env: { PATH: '/usr/bin:/bin' } }, mode);
  if (probe.status !== 0 || probe.stdout.trim() !== `${SANDBOX_UID}\n${SANDBOX_GID}`) {
    probed = { mode: null, reason: `bwrap does not work here (${mode}): ${probe.stderr.trim() || probe.stdout.trim()}` };
    return probed;
  }
  probed = { mode };
  return probed;
}

/** The host's top-level entries, bound read-only (directories) or recreated (symlinks such as /bin -> usr/bin). */
function rootArgs(): string[] {
  const args: string[] = [];
  const skip = new Set(['proc', 'dev', 'sys', 'tmp', 'run', 'backup', 'lost+found']);
  for (const name of readdirSync('/')) {
    if (skip.has(name)) continue;
    const path = `/${name}`;
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (stat.isDirectory()) args.push('--ro-bind', path, path);
  }
  return args;
}

/** The full argv (bwrap first) that runs `command` in the sandbox. */
export function sandboxArgv(command: string[], options: SandboxOptions, mode: SandboxMode): string[] {
  const args = ['bwrap', ...rootArgs(), '--dev', '/dev', '--proc', '/proc', '--perms', '1777', '--tmpfs', '/tmp'];
  // bwrap creates missing parents of a mount point with mode 0700 (root's), which 1001 could not traverse.
  const made = new Set<string>();
  const parents = (path: string) => {
    const parts = path.split('/').filter(Boolean).slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!made.has(dir)) args.push('--perms', '0755', '--dir', dir);
      made.add(dir);
    }
  };
  for (const mount of options.readOnly ?? []) {
    parents(mount.sandbox);
    args.push('--ro-bind', mount.host, mount.sandbox);
  }
  for (const mount of options.volumes) {
    parents(mount.sandbox);
    args.push('--bind', mount.host, mount.sandbox);
  }
  // The root is a tmpfs bwrap made to hold the mount points; from here on nothing outside the volumes is writable.
  args.push('--remount-ro', '/', '--die-with-parent');
  if (options.cwd) args.push('--chdir', options.cwd);
  if (mode === 'userns') {
    args.push('--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID), '--cap-drop', 'ALL', '--', ...command);
  } else {
    args.push(
      '--',
      'setpriv',
      `--reuid=${SANDBOX_UID}`,
      `--regid=${SANDBOX_GID}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      ...command,
    );
  }
  return args;
}

function resolveMode(mode?: SandboxMode): SandboxMode {
  if (mode) return mode;
  const found = sandboxMode();
  if (found.mode === null) throw new Error(`sandbox unavailable: ${found.reason}`);
  return found.mode;
}

export function runInSandbox(
  command: string[],
  options: SandboxOptions,
  mode?: SandboxMode,
  timeoutMs = 120_000,
): SpawnSyncReturns<string> {
  const [bin, ...args] = sandboxArgv(command, options, resolveMode(mode));
  return spawnSync(bin!, args, { encoding: 'utf8', env: options.env, timeout: timeoutMs });
}

export function spawnInSandbox(command: string[], options: SandboxOptions, mode?: SandboxMode): ChildProcess {
  const [bin, ...args] = sandboxArgv(command, options, resolveMode(mode));
  return spawn(bin!, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Give a host directory tree to the sandbox user, as Docker does for a new named volume from the image. */
export function giveToSandboxUser(path: string): void {
  if (process.getuid?.() !== 0) return; // userns mode: the caller's own files already appear as 1001 inside
  const walk = (p: string) => {
    chownSync(p, SANDBOX_UID, SANDBOX_GID);
    if (lstatSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(join(p, entry));
  };
  walk(path);
}

/** Every descendant of `pid` (children first), read from /proc: how the test finds node under bwrap and setpriv. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  let children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children.push(
        ...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
          .split(/\s+/)
          .filter(Boolean)
          .map(Number),
      );
    }
  } catch {
    children = [];
  }
  for (const child of children) out.push(child, ...descendants(child));
  return out;
}

/** The command name of a process (comm), or null once it is gone. */
/** argv of a running process, from /proc/<pid>/cmdline ([] once it is gone). */
export function processCommandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

