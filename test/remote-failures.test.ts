// What a failing remote means, in exit codes a script can act on (src/errors.ts): 12 for authentication, 10 for a
// repository that is not there, one code for a run where every repository failed alike. Real git over HTTP against
// git-http-backend on 127.0.0.1, behind a check of the Authorization header like GitHub's.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.ts';
import { createGitCommandManager } from '../src/git/git.ts';
import { Redactor } from '../src/redact.ts';
import { runCli } from './helpers/cli.ts';
import { createUpstream, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';
import { startGitHttpServer, type GitHttpServer } from './helpers/git-http-server.ts';

const TOKEN = 'ghp_RemoteFailuresTestToken0123456789abcd';
const header = (token: string) => `basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;

let u: Upstream;
let server: GitHttpServer;

beforeAll(async () => {
  u = createUpstream();
  server = await startGitHttpServer(join(u.tmp, 'upstream'), (request, response) => {
    if (String(request.headers.authorization ?? '').toLowerCase() === header(TOKEN).toLowerCase()) return false;
    response.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end('Bad credentials');
    return true;
  });
});

afterAll(async () => {
  await server.close();
  u.cleanup();
});

const root = () => join(makeTempDir('gpb-remote-'), 'backup');
const url = (name: string) => `${server.url}/acme/${name}.git`;
/** The token goes to the stand-in server only when GITHUB_API_URL names it (docs/OPERATIONS.md "Environment"). */
const toServer = (token: string) => ({ GITHUB_TOKEN: token, GITHUB_API_URL: server.url });

describe('remote failures', () => {
  it('a good token syncs; a revoked one exits 12 and says what is wrong', async () => {
    const r = root();
    expect((await runCli(['sync', '--root', r, '--repo', url('widgets')], toServer(TOKEN))).code).toBe(0);
    const revoked = await runCli(['sync', '--root', r, '--repo', url('widgets')], toServer('ghp_revoked000000000000000000000000000000'));
    expect(revoked.code).toBe(ExitCode.AUTH);
    expect(revoked.stdout).toContain(`authentication failed for acme/widgets at ${url('widgets')}: the token is missing, expired, revoked or cannot read this repository`);
    expect(revoked.stdout).toContain('(exit 12)');
  });

  it('a token that was set but not sent (another host than the GitHub server) says so, and exits 12', async () => {
    const before = server.requests.length;
    const run = await runCli(['sync', '--root', root(), '--repo', url('widgets')], { GITHUB_TOKEN: TOKEN });
    expect(run.code).toBe(ExitCode.AUTH);
    expect(run.stdout).toContain('a token is set but was not sent: it goes only to https://github.com/ (set GITHUB_API_URL for a GitHub Enterprise server)');
    const seen = server.requests.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('a repository that is not there exits 10, over HTTP and as a local path', async () => {
    const http = await runCli(['sync', '--root', root(), '--repo', url('missing')], toServer(TOKEN));
    expect(http.code).toBe(ExitCode.NOT_FOUND);
    expect(http.stdout).toContain(`acme/missing was not found at ${url('missing')}, or the credentials cannot see it`);
    const local = await runCli(['sync', '--root', root(), '--repo', join(u.tmp, 'upstream', 'acme', 'nowhere.git')]);
    expect(local.code).toBe(ExitCode.NOT_FOUND);
  });

  it('every repository failing alike exits with that code; failing differently exits 1; some failing exits 3', async () => {
    const bad = toServer('ghp_revoked000000000000000000000000000000');
    const bothAuth = await runCli(['sync', '--root', root(), '--repo', url('widgets'), '--repo', url('gadgets')], bad);
    expect(bothAuth.code).toBe(ExitCode.AUTH);
    const mixed = await runCli(['sync', '--root', root(), '--repo', url('widgets'), '--repo', join(u.tmp, 'upstream', 'acme', 'nowhere.git')], bad);
    expect(mixed.code).toBe(ExitCode.FAILURE);
    const partial = await runCli(['sync', '--root', root(), '--repo', url('widgets'), '--repo', url('missing')], toServer(TOKEN));
    expect(partial.code).toBe(ExitCode.PARTIAL);
    expect(existsSync(u.bare)).toBe(true);
  });

  it('restore --push to a remote that refuses the token exits 12, and says when the token was not sent', async () => {
    const r = root();
    expect((await runCli(['sync', '--root', r, '--repo', u.bare])).code).toBe(0);
    const push = (env: Record<string, string>) => runCli(['restore', 'latest', '--root', r, '--repo', u.bare, '--push', url('recovered')], env);
    const refused = await push(toServer('ghp_revoked000000000000000000000000000000'));
    expect(refused.code).toBe(ExitCode.AUTH);
    expect(refused.stdout).toContain(`authentication failed for acme/widgets at ${url('recovered')}`);
    const notSent = await push({ GITHUB_TOKEN: TOKEN });
    expect(notSent.code).toBe(ExitCode.AUTH);
    expect(notSent.stdout).toContain('a token is set but was not sent');
  });
});

describe('credentials in URLs', () => {
  it('every mirror refuses a URL carrying credentials (transfer.credentialsInUrl=die), and so does every git call', async () => {
    const r = root();
    expect((await runCli(['sync', '--root', r, '--repo', u.bare])).code).toBe(0);
    const mirror = join(r, 'immutable', 'acme', 'widgets.git');
    expect(execFileSync('git', ['config', 'transfer.credentialsInUrl'], { cwd: mirror, encoding: 'utf8' }).trim()).toBe('die');
    const [major = 0, minor = 0] = /(\d+)\.(\d+)/.exec(execFileSync('git', ['--version'], { encoding: 'utf8' }))!.slice(1).map(Number);
    if (major > 2 || (major === 2 && minor >= 41)) {
      // git itself refuses, whatever planted the URL: our URL check (src/git/url.ts) is not the only line.
      const git = createGitCommandManager({ redactor: new Redactor() });
      await expect(git.run(mirror, ['ls-remote', `http://x-access-token:${TOKEN}@127.0.0.1:9/acme/widgets.git`])).rejects.toThrow(/credentials/i);
    }
  });
});
