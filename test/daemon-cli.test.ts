// The daemon command with the real engine and real git: it syncs on a (six-field, every-second) schedule, re-reads the
// configuration before each run so an added repository is picked up without a restart, survives a broken config
// file, and returns cleanly when aborted (what SIGTERM does through main.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { daemonCommand } from '../src/cli/daemon.ts';
import { resolveSettings } from '../src/config.ts';
import { createEngine } from '../src/engine/index.ts';
import { ExitCode } from '../src/errors.ts';
import { startCli } from './helpers/cli.ts';

let work: string;
const savedEnv = { ...process.env };

function git(args: string[], cwd: string): void {
  execFileSync('git', args, {
    cwd,
    stdio: 'ignore',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  });
}

function makeUpstream(name: string): string {
  const bare = join(work, `${name}.git`);
  const clone = join(work, `${name}-work`);
  git(['init', '-q', '--bare', '-b', 'main', bare], work);
  git(['clone', '-q', bare, clone], work);
  git(['checkout', '-q', '-b', 'main'], clone);
  writeFileSync(join(clone, 'README.md'), `# ${name}\n`);
  git(['add', 'README.md'], clone);
  git(['commit', '-q', '-m', 'first'], clone);
  git(['push', '-q', 'origin', 'HEAD:main'], clone);
  return bare;
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'gpb-daemon-cli-'));
  mkdirSync(join(work, 'root'));
});

afterEach(() => {
  process.env = { ...savedEnv };
  rmSync(work, { recursive: true, force: true });
});

it('syncs on schedule, picks up a repository added to the config, survives a broken config, stops on abort', async () => {
  const app = makeUpstream('app');
  const lib = makeUpstream('lib');
  const configFile = join(work, 'backup.config.yml');
  const root = join(work, 'root');
  writeFileSync(configFile, `repositories:\n  - repo: acme/app\n    url: ${app}\n`);
  // The daemon reads the environment like the container does.
  process.env = { ...savedEnv, BACKUP_ROOT: root, BACKUP_CONFIG: configFile, BACKUP_SCHEDULE: '* * * * * *' };
  delete process.env.GITHUB_TOKEN;

  const settings = resolveSettings({}, process.env);
  const controller = new AbortController();
  const lines: string[] = [];
  const waitFor = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!lines.some((line) => pattern.test(line))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const jsonLines: string[] = [];
  const running = daemonCommand.execute({
    engine: createEngine({ settings }),
    settings,
    env: process.env,
    values: { 'run-now': true, json: true },
    positionals: [],
    signal: controller.signal,
    progress: (line) => lines.push(line),
    emitJsonLine: (value) => jsonLines.push(JSON.stringify(value)),
  });

  // --run-now: the first run starts at once. The mirror does not exist yet, so this run fails and is logged
  // (sync needs init first, or creates it: either way the daemon goes on).
  await waitFor(/daemon: run 1 (finished|FAILED)/);

  // Initialise app as the operator would (docker exec … init), then wait for a scheduled run that snapshots it.
  await createEngine({ settings: resolveSettings({}, process.env) }).init();
  const runsBefore = lines.filter((line) => / daemon: run \d+ starting/.test(line)).length;
  await waitFor(new RegExp(`daemon: run ${runsBefore + 1} finished with exit code 0`));
  expect(readdirSync(join(root, 'snapshots/acme/app')).some((name) => name.startsWith('snapshot-'))).toBe(true);

  // A broken config file fails that run, loudly, and the daemon goes on.
  writeFileSync(configFile, 'repositories: [unclosed\n');
  const brokenFrom = lines.length;
  await waitFor(/FAILED: .*invalid YAML/);
  expect(lines.slice(brokenFrom).some((line) => /FAILED: .*backup\.config\.yml/.test(line))).toBe(true);

  // Add a repository to the config: the next runs see it without any restart.
  writeFileSync(configFile, `repositories:\n  - repo: acme/app\n    url: ${app}\n  - repo: acme/lib\n    url: ${lib}\n`);
  await createEngine({ settings: resolveSettings({}, process.env) }).init();
  await waitFor(/daemon: {3}acme\/lib: ok/);
  expect(existsSync(join(root, 'immutable/acme/lib.git'))).toBe(true);

  controller.abort();
  const result = await running;
  // Runs fire every second: the abort lands while idle (exit 0) or during a run (exit 130), and the log says which.
  const midRun = lines.some((line) => /shutdown requested during run/.test(line));
  expect(result.exitCode).toBe(midRun ? ExitCode.INTERRUPTED : ExitCode.OK);
  expect(result.command).toBe('daemon');
  // --json: one JSON line per finished run, in order, a result or the error that ended it.
  const records = jsonLines.map((line) => JSON.parse(line) as { run: number; result?: { command: string; exitCode: number }; error?: string });
  expect(records.length).toBe(lines.filter((line) => /daemon: run \d+ (finished|FAILED)/.test(line)).length);
  expect(records.map((r) => r.run)).toEqual(records.map((_, i) => i + 1));
  expect(records.some((r) => r.result?.command === 'sync' && r.result.exitCode === 0)).toBe(true);
  expect(records.some((r) => /invalid YAML/.test(r.error ?? ''))).toBe(true);
  expect(lines.at(-1)).toMatch(midRun ? /daemon: stopped after \d+ run\(s\), the last one before it finished$/ : /daemon: stopped after \d+ run\(s\)$/);
  // Every line carries a UTC timestamp for `docker logs`.
  for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
}, 90_000);

it('daemon --json as a process: stdout is JSON Lines, one per run, and no envelope at shutdown', async () => {
  const app = makeUpstream('app');
  const root = join(work, 'root');
  const daemon = startCli(['daemon', '--json', '--run-now', '--root', root, '--repo', app], { BACKUP_SCHEDULE: '*/2 * * * * *' });
  const deadline = Date.now() + 30_000;
  let stdout = '';
  daemon.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  while ((stdout.match(/\n/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  daemon.child.kill('SIGTERM');
  const done = await daemon.done;
  expect([ExitCode.OK, ExitCode.INTERRUPTED]).toContain(done.code);
  const lines = done.stdout.split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThanOrEqual(2);
  for (const [i, line] of lines.entries()) {
    const record = JSON.parse(line) as { run: number; result?: { command: string } };
    expect(record.run).toBe(i + 1);
    expect(record.result?.command).toBe('sync');
  }
});
