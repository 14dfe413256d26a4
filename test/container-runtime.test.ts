// A rehearsal of the container at runtime, without Docker: the bundled CLI (dist/backup-manager.mjs, what the image
// installs as /usr/local/bin/backup-manager) runs as UID/GID 1001 with a read-only root, no capabilities, and only
// the two volumes (/backup and /backup/logs) plus a fresh /tmp writable, exactly the compose file's shape. It backs
// up a real local upstream (init -> sync -> snapshot -> restore -> status -> health), then the daemon runs a
// scheduled sync a few seconds out and stops cleanly on SIGTERM.
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  descendants,
  giveToSandboxUser,
  processCommandLine,
  runInSandbox,
  sandboxMode,
  SANDBOX_UID,
  spawnInSandbox,
  type SandboxOptions,
} from './helpers/sandbox.ts';

const repoRoot = join(import.meta.dirname, '..');
// BACKUP_MANAGER_BUNDLE: rehearse another build of the CLI (default: the one npm run build writes).
const bundle = process.env.BACKUP_MANAGER_BUNDLE ?? join(repoRoot, 'dist/backup-manager.mjs');
const TOKEN = 'ghp_RUNTIMEfake0123456789abcdefghijklmnop';

const availability = sandboxMode();
if (availability.mode === null && process.env.CI === 'true') {
  throw new Error(`the container rehearsal needs bubblewrap in CI: ${availability.reason}`);
}
if (availability.mode === null) console.warn(`skipping the container rehearsal: ${availability.reason}`);

let work: string;
let upstreamWork: string;
let upstream: string;
let dataVolume: string;
let logsVolume: string;
let restoreDir: string;
let configFile: string;

function git(args: string[], cwd: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    // The upstream belongs to 1001 so the sandbox can read it; the test (root) pushes to it all the same.
    // (git before 2.46 honours safe.directory only in global or system config, hence a global config file).
    env: { ...process.env, GIT_CONFIG_GLOBAL: join(work, 'test-gitconfig'), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  }).trim();
}

function commitUpstream(file: string, content: string): string {
  writeFileSync(join(upstreamWork, file), content);
  git(['add', file], upstreamWork);
  git(['commit', '-q', '-m', `change ${file}`], upstreamWork);
  git(['push', '-q', 'origin', 'HEAD:main'], upstreamWork);
  // The upstream is read by UID 1001 (git refuses a repository owned by someone else).
  giveToSandboxUser(upstream);
  return git(['rev-parse', 'HEAD'], upstreamWork);
}

function sandbox(extraEnv: Record<string, string> = {}): SandboxOptions {
  return {
    volumes: [
      { host: dataVolume, sandbox: '/backup' },
      { host: logsVolume, sandbox: '/backup/logs' },
      { host: restoreDir, sandbox: '/restore' },
    ],
    readOnly: [
      ...(existsSync(bundle) ? [{ host: bundle, sandbox: '/app/backup-manager.mjs' }] : []),
      { host: upstream, sandbox: '/upstream/app.git' },
      { host: configFile, sandbox: '/config/backup.config.yml' },
    ],
    env: {
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: '/tmp',
      BACKUP_ROOT: '/backup',
      BACKUP_CONFIG: '/config/backup.config.yml',
      GITHUB_TOKEN: TOKEN,
      GIT_TERMINAL_PROMPT: '0',
      ...extraEnv,
    },
    cwd: '/backup',
  };
}

interface CliRun {
  status: number | null;
  json: { command: string; exitCode: number; failed: string[]; outcomes: Array<{ repo: string; ok: boolean; value?: any; error?: string }> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  stderr: string;
}

function cli(args: string[]): CliRun {
  expect(existsSync(bundle), `${bundle} missing: run npm run build first`).toBe(true);
  const result = runInSandbox([process.execPath, '/app/backup-manager.mjs', ...args, '--json'], sandbox());
  let json: CliRun['json'];
  try {
    json = JSON.parse(result.stdout) as CliRun['json'];
  } catch {
    throw new Error(`backup-manager ${args.join(' ')} did not print JSON (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return { status: result.status, json, stderr: result.stderr };
}

function snapshotsOnHost(): string[] {
  const dir = join(dataVolume, 'snapshots/acme/app');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith('snapshot-')).sort() : [];
}

/** Every regular file under `dir`. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe.skipIf(availability.mode === null)(`container rehearsal (bubblewrap, ${availability.mode ?? 'unavailable'})`, () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'gpb-container-'));
    upstream = join(work, 'upstream.git');
    upstreamWork = join(work, 'work');
    dataVolume = join(work, 'volumes/data');
    logsVolume = join(work, 'volumes/logs');
    restoreDir = join(work, 'restore');
    configFile = join(work, 'backup.config.yml');
    for (const dir of [dataVolume, logsVolume, restoreDir]) mkdirSync(dir, { recursive: true });
    writeFileSync(join(work, 'test-gitconfig'), '[safe]\n\tdirectory = *\n');
    git(['init', '-q', '--bare', '-b', 'main', upstream], work);
    git(['clone', '-q', upstream, upstreamWork], work);
    git(['checkout', '-q', '-b', 'main'], upstreamWork);
    commitUpstream('README.md', '# app\n');
    git(['tag', 'v1.0.0'], upstreamWork);
    git(['push', '-q', 'origin', 'v1.0.0'], upstreamWork);
    giveToSandboxUser(upstream);
    writeFileSync(configFile, 'repositories:\n  - repo: acme/app\n    url: /upstream/app.git\n');
    // Like a new named volume initialised from the image: owned by backup (1001).
    for (const dir of [dataVolume, logsVolume, restoreDir]) giveToSandboxUser(dir);
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is the container shape: UID/GID 1001, no capabilities, read-only root, writable volumes and /tmp only', () => {
    const probe = runInSandbox(
      [
        '/bin/sh',
        '-c',
        [
          'id -u; id -g',
          'grep CapEff /proc/self/status',
          'touch /etc/gpb-probe 2>/dev/null && echo root-writable || echo root-read-only',
          'touch /usr/local/lib/gpb-probe 2>/dev/null && echo usr-writable || echo usr-read-only',
          'touch /backup/probe && echo backup-writable && rm /backup/probe',
          'touch /backup/logs/probe && echo logs-writable && rm /backup/logs/probe',
          'touch /tmp/probe && echo tmp-writable',
          'touch /upstream/app.git/probe 2>/dev/null && echo upstream-writable || echo upstream-read-only',
        ].join('; '),
      ],
      sandbox(),
    );
    expect(probe.stderr).toBe('');
    expect(probe.stdout.trim().split('\n')).toEqual([
      String(SANDBOX_UID),
      String(SANDBOX_UID),
      'CapEff:\t0000000000000000',
      'root-read-only',
      'usr-read-only',
      'backup-writable',
      'logs-writable',
      'tmp-writable',
      'upstream-read-only',
    ]);
  });

  it('init -> sync -> snapshot -> restore -> status -> health, as 1001 on a read-only root', () => {
    const init = cli(['init']);
    expect(init.status, init.stderr).toBe(0);
    expect(init.json.outcomes).toEqual([expect.objectContaining({ repo: 'acme/app', ok: true })]);
    expect(init.json.outcomes[0]!.value.created).toBe(true);
    expect(existsSync(join(dataVolume, 'immutable/acme/app.git/HEAD'))).toBe(true);

    const head = commitUpstream('CHANGELOG.md', 'second commit\n');
    const sync = cli(['sync']);
    expect(sync.status, sync.stderr).toBe(0);
    expect(sync.json.outcomes[0]!.ok).toBe(true);
    expect(sync.json.outcomes[0]!.value.snapshot).not.toBeNull();
    expect(snapshotsOnHost().length).toBeGreaterThanOrEqual(1);

    // One second later, so the explicit snapshot gets its own UTC-second name.
    spawnSync('sleep', ['1.1']);
    const snapshot = cli(['snapshot']);
    expect(snapshot.status, snapshot.stderr).toBe(0);
    const name = snapshot.json.outcomes[0]!.value.snapshot.name as string;
    expect(snapshotsOnHost()).toContain(name);

    // Snapshots hard-link the mirror's objects: possible only because immutable/ and snapshots/ share a volume.
    const packDir = join(dataVolume, 'snapshots/acme/app', name, 'objects/pack');
    const linked = existsSync(packDir) && readdirSync(packDir).some((file) => statSync(join(packDir, file)).nlink > 1);
    const looseLinked = filesUnder(join(dataVolume, 'snapshots/acme/app', name, 'objects')).some((file) => statSync(file).nlink > 1);
    expect(linked || looseLinked, 'snapshot objects are hard links into the mirror').toBe(true);

    const restore = cli(['restore', 'latest', '--to', '/restore/app', '--checkout']);
    expect(restore.status, restore.stderr).toBe(0);
    expect(restore.json.outcomes[0]!.ok).toBe(true);
    expect(readFileSync(join(restoreDir, 'app/CHANGELOG.md'), 'utf8')).toBe('second commit\n');
    expect(git(['rev-parse', 'HEAD'], join(restoreDir, 'app'))).toBe(head);

    const status = cli(['status']);
    expect(status.status, status.stderr).toBe(0);
    const repo = status.json.outcomes[0]!.value;
    expect(repo.initialized).toBe(true);
    expect(repo.snapshotCount).toBeGreaterThanOrEqual(2);
    expect(repo.tags).toBe(1);
    expect(repo.health).toBe('healthy');

    const health = runInSandbox([process.execPath, '/app/backup-manager.mjs', 'health'], sandbox());
    expect(health.status, health.stdout + health.stderr).toBe(0);

    // Everything written is owned by the container user, the log went to the logs volume, and the token is nowhere.
    if (availability.mode === 'root-setpriv') {
      for (const file of filesUnder(dataVolume)) expect(statSync(file).uid, file).toBe(SANDBOX_UID);
    }
    expect(readdirSync(logsVolume).some((file) => /^backup-\d{8}\.log$/.test(file))).toBe(true);
    for (const file of [...filesUnder(dataVolume), ...filesUnder(logsVolume)]) {
      expect(readFileSync(file).includes(TOKEN), `token in ${file}`).toBe(false);
    }
  });

  it('the daemon runs a scheduled sync a few seconds out, then exits 0 on SIGTERM', async () => {
    expect(existsSync(bundle), `${bundle} missing: run npm run build first`).toBe(true);
    const before = snapshotsOnHost();
    commitUpstream('daemon.txt', 'picked up by the scheduled run\n');
    // Six-field cron (seconds first): every 3 seconds, so the first run is at most 3 seconds away.
    const daemon: ChildProcess = spawnInSandbox(
      [process.execPath, '/app/backup-manager.mjs', 'daemon'],
      sandbox({ BACKUP_SCHEDULE: '*/3 * * * * *' }),
    );
    let output = '';
    daemon.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    daemon.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      daemon.on('close', (code, signal) => resolve({ code, signal })),
    );

    const deadline = Date.now() + 45_000;
    while (!/daemon: run 1 finished/.test(output) && Date.now() < deadline && daemon.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(output).toMatch(/daemon: started; schedule "\*\/3 \* \* \* \* \*" \(UTC\)/);
    expect(output).toMatch(/daemon: run 1 finished with exit code 0/);
    const after = snapshotsOnHost();
    expect(after.length).toBeGreaterThan(before.length);

    // SIGTERM goes to node itself, as tini (PID 1 in the image) forwards it.
    // By command line, not name: Node 24 names its main thread "MainThread" in /proc/<pid>/comm.
    const node = descendants(daemon.pid!).find((pid) => processCommandLine(pid)[1] === '/app/backup-manager.mjs');
    expect(node, 'the daemon process under bwrap').toBeDefined();
    process.kill(node!, 'SIGTERM');
    const { code, signal } = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`daemon did not stop:\n${output}`)), 20_000)),
    ]);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/daemon: stopped after \d+ run\(s\)/);
    expect(output).not.toContain(TOKEN);
    // No half snapshot is left visible: every snapshot directory is complete (has its snapshot.json).
    for (const name of snapshotsOnHost()) {
      expect(existsSync(join(dataVolume, 'snapshots/acme/app', name, 'snapshot.json')), name).toBe(true);
    }
  });
});
