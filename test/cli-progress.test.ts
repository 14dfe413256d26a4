// Progress on long runs (docs/OPERATIONS.md "Progress on a terminal"): the bundled CLI on a real pseudo-terminal,
// syncing over real HTTP (git-http-backend beside the GitHub API stand-in, as github.com serves both, the pack
// trickled out like a slow network) a repository with a few MiB of history, draws the phase of each repository,
// git's transfer progress as it comes and N/M; --quiet, NO_COLOR and a stderr that is not a terminal each take
// their part of it away. The token is sent (the server's record shows it) and never drawn.
// `npm test` builds dist/ first; when running this file alone, run `npm run build` after changing src/.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUpstream, git, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';
import { runCli } from './helpers/cli.ts';
import { runCliOnTerminal, startCliOnTerminal } from './helpers/terminal.ts';
import { serveThroughBackend, type Pace } from './helpers/git-http.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';
import { GitHubRecords } from './helpers/github-records.ts';

const TOKEN = 'progress-test-token-7Qm2xZ';
const ESC = '\x1b';
const COLOUR = new RegExp(`${ESC}\\[[0-9;]*m`);
const CLEAR_LINE = '\r\x1b[K';
// git's own line, as we draw it: "receiving objects 100% (12/12), 4.01 MiB | 61.20 MiB/s" (the terminal here is 80
// columns wide: the object counts give way when the rest does not fit).
const RECEIVING = /receiving objects \d{1,3}%( \(\d+\/\d+\))?, \d+(\.\d+)? (KiB|MiB|GiB) \| \d+(\.\d+)? (bytes|KiB|MiB|GiB)\/s/;

let upstream: Upstream;
let server: GitHubStandIn;
let records: GitHubRecords;
let configFile: string;
const WIDGETS = 'acme/widgets';
/** The pace of the git answers: a slow network for the tests that watch a transfer as it goes. */
let pace: Pace | undefined;

beforeAll(async () => {
  upstream = createUpstream();
  // A few MiB that do not compress: enough for git to report bytes and a rate.
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(upstream.work, `blob-${i}.bin`), randomBytes(1024 * 1024));
    git(upstream.work, 'add', `blob-${i}.bin`);
    git(upstream.work, 'commit', '--quiet', '-m', `add blob ${i}`);
  }
  upstream.push('main');
  // A second repository on the same server, for N/M.
  git(join(upstream.tmp, 'upstream', 'acme'), 'clone', '--bare', '--quiet', upstream.bare, 'gadgets.git');
  const gitRoot = join(upstream.tmp, 'upstream');
  server = await new GitHubStandIn().start();
  server.serveRaw((req, res) => {
    if (!/\.git\//.test(req.url ?? '')) return false;
    void serveThroughBackend(gitRoot, req, res, pace);
    return true;
  });
  // The API answers for the repositories' records too (their metadata capture, docs/METADATA_FORMAT.md), as GitHub
  // does: a sync that draws progress has no warning to print.
  records = await new GitHubRecords(server, '/api/v3').start();
  for (const name of ['widgets', 'gadgets']) records.repo('acme', name);
  // Picked by name from a config that switches their wikis off: these tests watch one repository's progress, and a
  // GitHub repository would otherwise bring its wiki along (docs/OPERATIONS.md "The wiki").
  configFile = join(upstream.tmp, 'backup.config.yml');
  const entry = (name: string) => `  - { repo: acme/${name}, url: "${server.url}/acme/${name}.git", metadata: { wiki: false } }\n`;
  writeFileSync(configFile, `repositories:\n${entry('widgets')}${entry('gadgets')}`);
});

afterAll(async () => {
  await records.close();
  await server.close();
  spawnSync('chmod', ['-R', 'u+w', upstream.tmp]);
  upstream.cleanup();
});

/** The token is scoped to the host GITHUB_API_URL names: the loopback server, so git sends it. */
const env = (more: Record<string, string> = {}) => ({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `${server.url}/api/v3`, BACKUP_CONFIG: configFile, ...more });

const freshRoot = () => join(makeTempDir('gpb-progress-'), 'backup');

/** git's requests since `from` that carried the token (the API's carry it as a bearer token instead). */
function tokenSentToGitSince(from: number): boolean {
  return server.requests
    .slice(from)
    .some((r) => r.path.includes('.git/') && Buffer.from(/^basic (.+)$/i.exec(String(r.headers.authorization ?? ''))?.[1] ?? '', 'base64').toString().includes(TOKEN));
}

/** Each distinct receiving line drawn, in order. */
const receivingLines = (terminal: string) => [...new Set(terminal.split(CLEAR_LINE).flatMap((l) => RECEIVING.exec(l)?.[0] ?? []))];

const SLOW: Pace = { chunkBytes: 64 * 1024, intervalMs: 20 };

describe('on a terminal', () => {
  afterEach(() => {
    pace = undefined;
  });

  it('sync draws the phase and git\'s transfer progress on one line, erases it, and keeps stdout clean', async () => {
    const before = server.requests.length;
    // About 1.5 s for the 4 MiB pack: long enough for git to report bytes and a rate while it receives.
    pace = SLOW;
    const run = await runCliOnTerminal(['sync', '--root', freshRoot(), '--repo', WIDGETS], env());
    expect(run.code, run.terminal).toBe(0);
    const { terminal } = run;
    expect(terminal).toContain('acme/widgets\x1b[0m: fetching');
    // git's figures while it receives, not only its last line: at least one below 100%, then the final one.
    const receiving = receivingLines(terminal);
    expect(receiving.some((l) => !l.includes(' 100% ')), receiving.join('\n')).toBe(true);
    expect(receiving.at(-1)).toMatch(/ 100% /);
    expect(terminal).toMatch(new RegExp(`acme/widgets${ESC}\\[0m: snapshot · snapshot-\\d{8}-\\d{6}`));
    // Drawn in place, in colour, and erased at the end.
    expect(terminal).toContain(CLEAR_LINE);
    expect(terminal).toMatch(COLOUR);
    expect(terminal.endsWith(CLEAR_LINE)).toBe(true);
    expect(terminal).not.toContain('\n');
    // The result is what it is off a terminal.
    expect(run.stdout).toMatch(/^✓ acme\/widgets: refs changed: \d+ \(\d+ added\); snapshot snapshot-\S+ taken/);
    expect(run.stdout).not.toMatch(/\r/);
    expect(run.stdout).not.toContain(ESC);
    // The server received the token; the terminal never showed it.
    expect(tokenSentToGitSince(before)).toBe(true);
    expect(terminal).not.toContain(TOKEN);
    // git itself ran on the server's side with progress asked for: its sideband stages reached us.
    expect(terminal).toMatch(/remote: (counting|compressing) objects \d{1,3}% \(\d+\/\d+\)/);
  });

  it('many repositories show how many of them are done', async () => {
    pace = SLOW;
    const run = await runCliOnTerminal(['sync', '--root', freshRoot(), '--repo', WIDGETS, '--repo', 'acme/gadgets', '--concurrency', '1'], env());
    expect(run.code, run.terminal).toBe(0);
    const fetching = (done: number) => new RegExp(`${done}/2 done\x1b\\[0m {2}\x1b\\[1macme/(widgets|gadgets)\x1b\\[0m: fetching`).exec(run.terminal)?.[1];
    const first = fetching(0);
    expect(first).toBeDefined();
    expect(fetching(1)).toBe(first === 'widgets' ? 'gadgets' : 'widgets');
    expect(run.stdout).toContain('sync: 2 repositories ok');
  });

  it('^C is acknowledged at once, on a line of its own, and stops the run (exit 130)', async () => {
    // About 10 s for the pack: the fetch is surely under way when ^C comes.
    pace = { chunkBytes: 16 * 1024, intervalMs: 40 };
    const run = startCliOnTerminal(['sync', '--root', freshRoot(), '--repo', WIDGETS], env());
    for (let waited = 0; !/receiving objects/.test(run.terminal()); waited += 50) {
      expect(waited, run.terminal()).toBeLessThan(20_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The terminal's own ^C: SIGINT to backup-manager and its git alike.
    run.type('\x03');
    const stopped = await run.done;
    expect(stopped.code, stopped.terminal).toBe(130);
    expect(stopped.terminal).toContain(`${CLEAR_LINE}backup-manager: SIGINT: stopping after sync acme/widgets, git fetch… (again to stop at once)\n`);
    expect(stopped.stdout).toMatch(/^✗ acme\/widgets: stopped on request/);
  });

  it('NO_COLOR keeps the progress and drops every colour code', async () => {
    const run = await runCliOnTerminal(['sync', '--root', freshRoot(), '--repo', WIDGETS], env({ NO_COLOR: '1' }));
    expect(run.code, run.terminal).toBe(0);
    expect(run.terminal).toContain(`${CLEAR_LINE}acme/widgets: fetching`);
    expect(run.terminal).toMatch(RECEIVING);
    expect(run.terminal).not.toMatch(COLOUR);
  });

  it('--quiet draws nothing at all', async () => {
    const root = freshRoot();
    const run = await runCliOnTerminal(['sync', '--quiet', '--root', root, '--repo', WIDGETS], env());
    expect(run.code, run.terminal).toBe(0);
    expect(run.terminal).toBe('');
    expect(run.stdout).toMatch(/^✓ acme\/widgets: .*snapshot snapshot-\S+ taken/);
    const short = await runCliOnTerminal(['verify', '-q', '--root', root, '--repo', WIDGETS], env());
    expect(short.code, short.terminal).toBe(0);
    expect(short.terminal).toBe('');
  });

  it('verify, export, restore and a push to a new remote name their phase; the push shows git\'s upload', async () => {
    const root = freshRoot();
    expect((await runCli(['sync', '--root', root, '--repo', WIDGETS], env())).code).toBe(0);
    const verify = await runCliOnTerminal(['verify', '--root', root, '--repo', WIDGETS], env({ NO_COLOR: '1' }));
    expect(verify.code, verify.terminal).toBe(0);
    expect(verify.terminal).toMatch(/acme\/widgets: verifying · snapshot-\d{8}-\d{6}/);
    const exported = await runCliOnTerminal(['export', 'latest', '--root', root, '--repo', WIDGETS], env({ NO_COLOR: '1' }));
    expect(exported.code, exported.terminal + exported.stdout).toBe(0);
    expect(exported.terminal).toMatch(/acme\/widgets: exporting · snapshot-\d{8}-\d{6}/);
    const to = join(makeTempDir('gpb-progress-to-'), 'restored.git');
    const restored = await runCliOnTerminal(['restore', '--root', root, '--repo', WIDGETS, '--to', to], env({ NO_COLOR: '1' }));
    expect(restored.code, restored.terminal + restored.stdout).toBe(0);
    expect(restored.terminal).toMatch(/acme\/widgets: restoring · snapshot-\d{8}-\d{6}/);

    // An empty repository on the server that accepts pushes over HTTP.
    const remote = join(upstream.tmp, 'upstream', 'acme', 'pushed.git');
    git(join(upstream.tmp, 'upstream', 'acme'), 'init', '--bare', '--quiet', 'pushed.git');
    git(remote, 'config', 'http.receivepack', 'true');
    const pushed = await runCliOnTerminal(['restore', '--root', root, '--repo', WIDGETS, '--push', `${server.url}/acme/pushed.git`], env({ NO_COLOR: '1' }));
    expect(pushed.code, pushed.terminal + pushed.stdout).toBe(0);
    expect(pushed.terminal).toContain(`acme/widgets: pushing to remote · ${server.url}/acme/pushed.git`);
    // (The line is 80 columns wide here: git's object counts may give way to its bytes and rate.)
    expect(pushed.terminal).toMatch(/writing objects \d{1,3}%( \(\d+\/\d+\))?, \d+(\.\d+)? (KiB|MiB|GiB) \| \d+(\.\d+)? (bytes|KiB|MiB|GiB)\/s/);
    expect(git(remote, 'rev-parse', 'refs/heads/main').trim()).toBe(git(upstream.bare, 'rev-parse', 'refs/heads/main').trim());
  });
});

describe('off a terminal', () => {
  it('stderr and stdout carry no progress, no carriage return and no escape code', async () => {
    const run = await runCli(['sync', '--root', freshRoot(), '--repo', WIDGETS], env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(server.requests.some((r) => r.path === '/api/v3/repos/acme/widgets')).toBe(true);
    expect(run.stdout).toMatch(/^✓ acme\/widgets: .*snapshot snapshot-\S+ taken/);
    expect(run.stdout).not.toMatch(/\r|fetching|receiving objects/);
    expect(run.stdout + run.stderr).not.toContain(ESC);
  });
});
