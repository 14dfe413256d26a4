// A silent network cannot hang a sync (docs/OPERATIONS.md "A network that stops answering"): git abandons a
// transfer that stalls for BACKUP_STALL_SECONDS, and BACKUP_REPO_TIMEOUT_SECONDS kills whatever git is still
// running for a repository. Either way the run ends with a clear error, the lock is released and the next sync
// starts. Real servers on 127.0.0.1 that accept connections and never answer; the bounds are made small here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.ts';
import { runCli } from './helpers/cli.ts';
import { createUpstream, makeTempDir, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { startGitHttpServer, type GitHttpServer } from './helpers/git-http-server.ts';

let u: Upstream;
beforeAll(() => {
  u = createUpstream();
});
afterAll(() => u.cleanup());

/** Accepts TCP connections, reads whatever comes, never sends a byte. */
async function silentServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => sockets.length,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function backupRoot(): string {
  return join(makeTempDir('gpb-stall-'), 'backup');
}

const lockFile = (root: string) => join(root, 'state', 'locks', 'acme__widgets.lock');

/** Processes still running whose command line mentions `needle` (a git or git-remote-http left behind). */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('a silent network', () => {
  it('a server that accepts and never answers: git gives up after the stall bound, three tries, lock released', async () => {
    const silent = await silentServer();
    closers.push(silent.close);
    const root = backupRoot();
    const repo = `${silent.url}/acme/widgets.git`;
    const run = await runCli(['sync', '--root', root, '--repo', repo], { BACKUP_STALL_SECONDS: '1' });
    expect(run.code).toBe(ExitCode.FAILURE);
    expect(run.stdout).toContain(`${repo} stopped answering for acme/widgets: less than a byte a second for 1 s, 3 times (BACKUP_STALL_SECONDS sets the bound)`);
    expect(silent.connections()).toBe(3); // one per attempt: retried as transient, then given up
    expect(existsSync(lockFile(root))).toBe(false);
    expect(readdirSync(join(root, 'immutable', 'acme')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(processesMentioning(silent.url)).toEqual([]);
  });

  it('a server that answers the first request and then stalls: the fetch is abandoned, and the next sync starts', async () => {
    let answering = 1;
    const held: ServerResponse[] = [];
    const server: GitHttpServer = await startGitHttpServer(join(u.tmp, 'upstream'), (_request, response) => {
      if (answering > 0) {
        answering--;
        return false;
      }
      held.push(response); // never answered
      return true;
    });
    closers.push(() => server.close());
    const root = backupRoot();
    const repo = `${server.url}/acme/widgets.git`;
    const env = { BACKUP_STALL_SECONDS: '1' };
    const stalled = await runCli(['sync', '--root', root, '--repo', repo], env);
    expect(stalled.code).toBe(ExitCode.FAILURE);
    expect(stalled.stdout).toContain(`${repo} stopped answering for acme/widgets`);
    expect(server.requests[0]!.url).toMatch(/\/info\/refs\?service=git-upload-pack$/);
    expect(held.length).toBe(3);
    expect(existsSync(lockFile(root))).toBe(false);

    answering = Number.POSITIVE_INFINITY;
    const next = await runCli(['sync', '--root', root, '--repo', repo], env);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(refsOf(join(root, 'immutable', 'acme', 'widgets.git'))).toEqual(refsOf(u.bare));
  });

  it('the per-repository deadline kills a git that stalls below the stall bound, and releases the lock', async () => {
    const silent = await silentServer();
    closers.push(silent.close);
    const root = backupRoot();
    const repo = `${silent.url}/acme/widgets.git`;
    // Stall detection off: only the deadline can end this.
    const run = await runCli(['sync', '--root', root, '--repo', repo], { BACKUP_STALL_SECONDS: '0', BACKUP_REPO_TIMEOUT_SECONDS: '1.5' });
    expect(run.code).toBe(ExitCode.FAILURE);
    expect(run.stdout).toMatch(/sync acme\/widgets passed its deadline of 1\.5 s during git (ls-remote|fetch); git was stopped \(BACKUP_REPO_TIMEOUT_SECONDS raises it\)/);
    expect(silent.connections()).toBe(1); // not retried: the deadline is for the whole repository
    expect(processesMentioning(silent.url)).toEqual([]);
    expect(existsSync(lockFile(root))).toBe(false);

    // The lock is free: a sync of the same repository from a working upstream starts and succeeds.
    const next = await runCli(['sync', '--root', root, '--repo', u.bare]);
    expect(next.code, next.stdout + next.stderr).toBe(0);
  });

  it('an ssh remote that never answers is bounded by the deadline too: git and ssh are both stopped', async () => {
    const silent = await silentServer();
    closers.push(silent.close);
    const root = backupRoot();
    const port = new URL(silent.url).port;
    const repo = `ssh://git@127.0.0.1:${port}/acme/widgets.git`;
    const run = await runCli(['sync', '--root', root, '--repo', repo], { BACKUP_REPO_TIMEOUT_SECONDS: '1.5' });
    expect(run.code).toBe(ExitCode.FAILURE);
    expect(run.stdout).toMatch(/sync acme\/widgets passed its deadline of 1\.5 s during git (ls-remote|fetch)/);
    expect(silent.connections()).toBe(1);
    expect(processesMentioning(`-p ${port}`)).toEqual([]);
    expect(processesMentioning(repo)).toEqual([]);
    expect(existsSync(lockFile(root))).toBe(false);
  });

  it('an invalid bound is a usage error', async () => {
    const run = await runCli(['sync', '--root', backupRoot(), '--repo', u.bare], { BACKUP_STALL_SECONDS: 'soon' });
    expect(run.code).toBe(ExitCode.USAGE);
    expect(run.stderr).toContain('invalid BACKUP_STALL_SECONDS "soon"');
  });
});
