// scripts/init-github-backup.sh, run for real against a fake `docker` on PATH (as github/backup-utils tests its
// scripts with test/bin): prerequisites fail first and clearly, the token lands only in a mode-600 env file and
// never in output or in any process's arguments, and a second run changes nothing. Plus shellcheck on every script.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '..');
const script = join(repoRoot, 'scripts/init-github-backup.sh');
// Recognisable, token-shaped, fake: if it shows up anywhere it must not, the assertion names it.
const TOKEN = 'ghp_FAKEtoken0123456789abcdefghijklmnopqrst';

/** A fake docker: logs every argv (one line, fields separated by a unit separator), answers like a real one. */
const FAKE_DOCKER = String.raw`#!/usr/bin/env bash
set -u
state=${'$'}FAKE_DOCKER_STATE
printf '%s\x1f' "$@" >> "$state/argv.log"
printf '\n' >> "$state/argv.log"
case "$1" in
  info) [ -z "${'$'}{FAKE_NO_DAEMON:-}" ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; }; echo "Server: fake" ;;
  compose)
    [ -z "${'$'}{FAKE_NO_COMPOSE:-}" ] || { echo "docker: unknown command: docker compose" >&2; exit 1; }
    shift
    case " $* " in
      *" version "*) echo "Docker Compose version v2.29.0 (fake)" ;;
      *" up "*)
        # What real compose would do with env_file: read it. Record its mode for the test.
        stat -c '%a' "$FAKE_ENV_FILE" > "$state/env-mode-at-up"
        echo running > "$state/container" ;;
      *) echo "fake compose: unexpected: $*" >&2; exit 1 ;;
    esac ;;
  inspect)
    [ -f "$state/container" ] || { echo "Error: No such object" >&2; exit 1; }
    case "$3" in
      *Health*)
        # FAKE_STARTING_CHECKS: answer "starting" to that many health checks first, as a fresh container does.
        checks=$(( $(cat "$state/health-checks" 2> /dev/null || echo 0) + 1 )); echo "$checks" > "$state/health-checks"
        if [ "$checks" -le "${'$'}{FAKE_STARTING_CHECKS:-0}" ]; then echo starting; else echo "${'$'}{FAKE_HEALTH:-healthy}"; fi ;;
      *) cat "$state/container" ;;
    esac ;;
  exec)
    [ -f "$state/container" ] || { echo "Error: No such container: $2" >&2; exit 1; }
    case "$4" in
      init) [ -z "${'$'}{FAKE_INIT_FAIL:-}" ] || { echo "init: authentication failed" >&2; exit 1; }; echo "acme/app: mirror created" ;;
      sync) sleep "${'$'}{FAKE_SYNC_SECONDS:-0}"; echo "acme/app: snapshot taken" ;;
      status) echo "acme/app: healthy" ;;
      *) echo "fake exec: unexpected $*" >&2; exit 1 ;;
    esac ;;
  *) echo "fake docker: unexpected $*" >&2; exit 1 ;;
esac
`;

// Only the tools the script (and the fake docker) use, so no real docker on this machine leaks into PATH.
const TOOLS = ['bash', 'env', 'dirname', 'mv', 'chmod', 'sleep', 'cat', 'stat', 'rm'];

let work: string;
let project: string;
let toolsDir: string;
let fakeBin: string;
let state: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'gpb-init-'));
  project = join(work, 'project');
  toolsDir = join(work, 'tools');
  fakeBin = join(work, 'fakebin');
  state = join(work, 'state');
  for (const dir of [project, toolsDir, fakeBin, state]) mkdirSync(dir);
  copyFileSync(join(repoRoot, 'docker-compose.github-backup.yml'), join(project, 'docker-compose.github-backup.yml'));
  for (const tool of TOOLS) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    expect(found, `${tool} on this machine`).not.toBe('');
    symlinkSync(found, join(toolsDir, tool));
  }
  writeFileSync(join(fakeBin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], options: { env?: Record<string, string>; withDocker?: boolean; input?: string } = {}): Run {
  const path = options.withDocker === false ? toolsDir : `${fakeBin}:${toolsDir}`;
  const result = spawnSync(join(toolsDir, 'bash'), [script, '--project-dir', project, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: {
      PATH: path,
      FAKE_DOCKER_STATE: state,
      FAKE_ENV_FILE: join(project, '.env.github-backup'),
      ...options.env,
    },
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const argvLog = () => (existsSync(join(state, 'argv.log')) ? readFileSync(join(state, 'argv.log'), 'utf8') : '');
const invocations = () =>
  argvLog()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\x1f').filter(Boolean).join(' '));

/** Every file under `dir` (the project: env file, config) except the env file itself. */
function filesOtherThanEnv(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out.filter((file) => relative(project, file) !== '.env.github-backup');
}

describe('init-github-backup.sh', () => {
  it('prints help with the exit codes and exits 0', () => {
    const result = run(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Usage: scripts\/init-github-backup\.sh/);
    expect(result.stdout).toMatch(/Exit status:/);
    expect(result.stdout).toMatch(/10 +docker is not installed/);
    expect(invocations()).toEqual([]);
  });

  it('rejects unknown arguments and bad values with exit 2 before touching docker', () => {
    const unknown = run(['--frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown argument '--frobnicate'/);
    const badRepo = run(['--repo', '../etc/passwd']);
    expect(badRepo.status).toBe(2);
    expect(badRepo.stderr).toMatch(/--repo must look like OWNER\/NAME/);
    const badTimeout = run(['--timeout', 'soon']);
    expect(badTimeout.status).toBe(2);
    expect(run(['--repo']).stderr).toMatch(/--repo needs a value/);
    expect(invocations()).toEqual([]);
  });

  it('fails with exit 10 and a clear message when docker is missing', () => {
    const result = run(['--repo', 'acme/app'], { withDocker: false, env: { GITHUB_TOKEN: TOKEN } });
    expect(result.status).toBe(10);
    expect(result.stderr).toMatch(/docker is not installed or not on PATH/);
    expect(existsSync(join(project, '.env.github-backup'))).toBe(false);
  });

  it('fails with exit 11 without the compose plugin and 12 when the daemon does not answer', () => {
    const noCompose = run(['--repo', 'acme/app'], { env: { GITHUB_TOKEN: TOKEN, FAKE_NO_COMPOSE: '1' } });
    expect(noCompose.status).toBe(11);
    expect(noCompose.stderr).toMatch(/'docker compose' is not available/);
    const noDaemon = run(['--repo', 'acme/app'], { env: { GITHUB_TOKEN: TOKEN, FAKE_NO_DAEMON: '1' } });
    expect(noDaemon.status).toBe(12);
    expect(noDaemon.stderr).toMatch(/docker daemon does not answer/);
    expect(existsSync(join(project, '.env.github-backup'))).toBe(false);
  });

  it('fails with exit 13 when no token is given and nobody can be asked', () => {
    const result = run(['--repo', 'acme/app']);
    expect(result.status).toBe(13);
    expect(result.stderr).toMatch(/no GitHub token: set GITHUB_TOKEN/);
    expect(existsSync(join(project, '.env.github-backup'))).toBe(false);
    expect(invocations().some((argv) => argv.startsWith('compose -f'))).toBe(false);
  });

  it('refuses a token with characters no token has, without printing it', () => {
    const pasted = 'ghp_abc def"; touch /tmp/pwned';
    const result = run(['--repo', 'acme/app'], { env: { GITHUB_TOKEN: pasted } });
    expect(result.status).toBe(13);
    expect(result.stderr).toMatch(/characters a GitHub token never has/);
    expect(result.stdout + result.stderr).not.toContain('ghp_abc');
  });

  it('fails with exit 14 when no repository is configured', () => {
    const result = run([], { env: { GITHUB_TOKEN: TOKEN } });
    expect(result.status).toBe(14);
    expect(result.stderr).toMatch(/no repositories configured: pass --repo OWNER\/NAME/);
  });

  it('sets everything up: env file mode 600, config, compose up, init, sync, healthy, status; token never leaks', () => {
    const result = run(['--repo', 'acme/app', '--owner', 'acme-org'], { env: { GITHUB_TOKEN: TOKEN } });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);

    const envFile = join(project, '.env.github-backup');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toBe(`GITHUB_TOKEN=${TOKEN}\n`);
    // The file already had mode 600 when compose read it.
    expect(readFileSync(join(state, 'env-mode-at-up'), 'utf8').trim()).toBe('600');
    expect(readFileSync(join(project, 'backup.config.yml'), 'utf8')).toMatch(/repositories:\n {2}- acme\/app\n {2}- owner: acme-org\n/);

    const compose = `compose -f ${join(project, 'docker-compose.github-backup.yml')}`;
    expect(invocations()).toEqual([
      'compose version',
      'info',
      `${compose} up -d --build`,
      'inspect --format {{.State.Status}} github-private-backup',
      'exec github-private-backup backup-manager init',
      'exec github-private-backup backup-manager sync',
      'inspect --format {{if .State.Health}}{{.State.Health.Status}}{{end}} github-private-backup',
      'exec github-private-backup backup-manager status',
    ]);
    expect(result.stdout).toMatch(/acme\/app: healthy/);

    // The secret only ever lives in the env file.
    expect(result.stdout).not.toContain(TOKEN);
    expect(result.stderr).not.toContain(TOKEN);
    expect(argvLog()).not.toContain(TOKEN);
    expect(argvLog()).not.toContain('ghp_');
    for (const file of filesOtherThanEnv(project)) expect(readFileSync(file, 'utf8'), file).not.toContain(TOKEN);
    for (const file of readdirSync(state)) expect(readFileSync(join(state, file), 'utf8'), file).not.toContain(TOKEN);
  });

  it('is idempotent: a second run keeps the env file and config, and says so', () => {
    expect(run(['--repo', 'acme/app'], { env: { GITHUB_TOKEN: TOKEN } }).status).toBe(0);
    const envFile = join(project, '.env.github-backup');
    const configFile = join(project, 'backup.config.yml');
    const before = { env: statSync(envFile), config: readFileSync(configFile, 'utf8') };

    // Second run: no GITHUB_TOKEN in the environment at all; the env file is enough.
    const again = run(['--repo', 'acme/other']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already holds it \(unchanged\)/);
    expect(again.stderr).toMatch(/exists, so --repo\/--owner were not written into it/);
    const after = statSync(envFile);
    expect(after.ino).toBe(before.env.ino);
    expect(after.mtimeMs).toBe(before.env.mtimeMs);
    expect(after.mode & 0o777).toBe(0o600);
    expect(readFileSync(configFile, 'utf8')).toBe(before.config);
    expect(again.stdout + again.stderr + argvLog()).not.toContain(TOKEN);
    expect(invocations().filter((argv) => argv.endsWith('backup-manager init'))).toHaveLength(2);
  });

  it('replaces a changed token and repairs a too-open env file mode', () => {
    const envFile = join(project, '.env.github-backup');
    writeFileSync(envFile, 'GITHUB_TOKEN=ghp_OLDtoken\n');
    chmodSync(envFile, 0o644);
    writeFileSync(join(project, 'backup.config.yml'), 'repositories:\n  - acme/app\n');
    const result = run([], { env: { GITHUB_TOKEN: TOKEN } });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/token: updated/);
    expect(readFileSync(envFile, 'utf8')).toBe(`GITHUB_TOKEN=${TOKEN}\n`);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  it('asks for the token without echoing it when run on a terminal', async () => {
    writeFileSync(join(project, 'backup.config.yml'), 'repositories:\n  - acme/app\n');
    const scriptTool = spawnSync('bash', ['-c', 'command -v script'], { encoding: 'utf8' }).stdout.trim();
    expect(scriptTool, 'util-linux script(1)').not.toBe('');
    // script(1) gives the init script a real pseudo-terminal. The token is typed only once the prompt shows, as a
    // person would: typed earlier, the terminal itself would echo it before `read -s` turns echo off.
    const command = [join(toolsDir, 'bash'), script, '--project-dir', project].map((arg) => `'${arg}'`).join(' ');
    const child = spawn(scriptTool, ['-q', '-e', '-c', command, '/dev/null'], {
      env: { PATH: `${fakeBin}:${toolsDir}`, FAKE_DOCKER_STATE: state, FAKE_ENV_FILE: join(project, '.env.github-backup'), TERM: 'dumb' },
    });
    let output = '';
    let typed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!typed && output.includes('GitHub token (input hidden):')) {
        typed = true;
        child.stdin.write(`${TOKEN}\n`);
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(typed).toBe(true);
    expect(status).toBe(0);
    expect(output).toMatch(/token: wrote/);
    expect(output).not.toContain(TOKEN);
    expect(readFileSync(join(project, '.env.github-backup'), 'utf8')).toBe(`GITHUB_TOKEN=${TOKEN}\n`);
  });

  it('stops with distinct codes when init fails (22) or the container never turns healthy (24)', () => {
    const initFails = run(['--repo', 'acme/app'], { env: { GITHUB_TOKEN: TOKEN, FAKE_INIT_FAIL: '1' } });
    expect(initFails.status).toBe(22);
    expect(initFails.stderr).toMatch(/backup-manager init failed; check the token's scopes/);
    expect(initFails.stderr).not.toContain(TOKEN);

    const unhealthy = run(['--repo', 'acme/app', '--timeout', '1'], { env: { GITHUB_TOKEN: TOKEN, FAKE_HEALTH: 'unhealthy' } });
    expect(unhealthy.status).toBe(24);
    expect(unhealthy.stderr).toMatch(/github-private-backup is 'unhealthy', not healthy, after 1s/);
  });
});

describe('init-github-backup.sh timing', () => {
  it('does not count a first sync longer than --timeout against the health wait', () => {
    // The sync outlasts --timeout; the container then reports "starting" once before "healthy" (one 3 s poll).
    const slowSync = run(['--repo', 'acme/app', '--timeout', '4'], { env: { GITHUB_TOKEN: TOKEN, FAKE_SYNC_SECONDS: '5', FAKE_STARTING_CHECKS: '1' } });
    expect(slowSync.stderr).not.toMatch(/not healthy/);
    expect(slowSync.status).toBe(0);
    expect(invocations()).toContain('exec github-private-backup backup-manager sync');
  });
});

describe('shellcheck', () => {
  const shellcheck = spawnSync('bash', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }).stdout.trim();

  /** Every *.sh in the repository outside node_modules, dist and .git. */
  function shellScripts(dir: string): string[] {
    const out: string[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', 'dist', '.git', 'coverage', '.tmp'].includes(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) out.push(...shellScripts(path));
      else if (entry.name.endsWith('.sh')) out.push(path);
    }
    return out;
  }

  it('is installed (CI installs it; locally: apt-get install shellcheck)', () => {
    if (!shellcheck && process.env.CI !== 'true') {
      console.warn('shellcheck is not installed: skipping the shellcheck tests outside CI (apt-get install shellcheck)');
      return;
    }
    expect(shellcheck, 'shellcheck must be on PATH in CI').not.toBe('');
  });

  it('finds no problem in any shell script', () => {
    const scripts = shellScripts(repoRoot);
    expect(scripts.map((s) => relative(repoRoot, s))).toContain('scripts/init-github-backup.sh');
    if (!shellcheck && process.env.CI !== 'true') return;
    const result = spawnSync(shellcheck, ['--severity=style', '--external-sources', ...scripts], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
