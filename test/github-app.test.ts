// GitHub App authentication through the built CLI against the GitHub API stand-in, which serves git's smart HTTP
// beside the API as github.com does. Installation tokens live a couple of seconds here instead of an hour, so a run
// of a dozen repositories outlives several: the stand-in refuses any expired token, and records every one it saw.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkFiles } from '../src/fsutil.ts';
import { refreshDue, refreshMarginMs, MAX_REFRESH_MARGIN_MS } from '../src/github/token-refresh.ts';
import { installationLookup } from '../src/github/installation.ts';
import { runCli } from './helpers/cli.ts';
import { createUpstream, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';
import { serveThroughBackend } from './helpers/git-http.ts';
import { generateAppKeyPair, GitHubAppModel } from './helpers/github-app-standin.ts';
import { GitHubStandIn, paginate, runAction } from './helpers/github-standin.ts';

const APP_ID = 4242;
const INSTALLATION = 777;
const LIFETIME_MS = 2400;
const GIT_DELAY_MS = 50;

describe('token renewal (pure)', () => {
  it('renews a quarter of the lifetime before expiry, at most ten minutes before', () => {
    const hour = { receivedAt: 0, expiresAt: 3_600_000 };
    expect(refreshMarginMs(hour)).toBe(MAX_REFRESH_MARGIN_MS);
    expect(refreshDue(3_600_000 - MAX_REFRESH_MARGIN_MS - 1, hour)).toBe(false);
    expect(refreshDue(3_600_000 - MAX_REFRESH_MARGIN_MS, hour)).toBe(true);
    const short = { receivedAt: 1000, expiresAt: 3000 };
    expect(refreshMarginMs(short)).toBe(500);
    expect(refreshDue(2499, short)).toBe(false);
    expect(refreshDue(2500, short)).toBe(true);
    // A token that expired before it arrived (this clock far ahead of GitHub's) is renewed at once.
    expect(refreshDue(10, { receivedAt: 10, expiresAt: 5 })).toBe(true);
  });

  it('finds the installation from the one configured owner, and refuses several', () => {
    expect(installationLookup([{ owner: 'acme', type: 'org', includeArchived: false, includeForks: false, exclude: [] }, 'acme/x'], 'https://github.com')).toEqual({ kind: 'owner', owner: 'acme' });
    expect(installationLookup(['ACME/x', 'acme/y'], 'https://github.com')).toEqual({ kind: 'repo', owner: 'ACME', name: 'x' });
    expect(() => installationLookup(['acme/x', 'other/y'], 'https://github.com')).toThrow(/one installation per run, and repositories of 2 owners are selected \(acme, other\)/);
    expect(() => installationLookup([], 'https://github.com')).toThrow(/GITHUB_APP_INSTALLATION_ID/);
  });
});

describe('a long run authenticated as a GitHub App', () => {
  const { privateKey, publicKey } = generateAppKeyPair();
  const upstreams: Upstream[] = Array.from({ length: 12 }, (_, i) => createUpstream({ name: `repo-${String(i).padStart(2, '0')}` }));
  const standIn = new GitHubStandIn();
  const app = new GitHubAppModel(standIn, { appId: APP_ID, publicKey, installations: { acme: INSTALLATION }, tokenLifetimeMs: LIFETIME_MS });
  const dir = makeTempDir('gpb-app-');
  const keyFile = join(dir, 'secrets', 'app.pem');
  const env = () => ({ GITHUB_API_URL: standIn.url, GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY_FILE: keyFile });
  const config = (name: string, lines: string[]) => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(file, [`root: ${join(dir, name)}`, ...lines, ''].join('\n'));
    return file;
  };
  const keyLines = privateKey.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
  const expectNoSecretIn = (where: string, text: string) => {
    for (const t of app.issued) expect(text, `${where} holds an installation token`).not.toContain(t.token);
    for (const line of keyLines) expect(text, `${where} holds a line of the private key`).not.toContain(line);
  };

  beforeAll(async () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(keyFile, privateKey, { mode: 0o600 });
    app.install();
    standIn.on(
      'GET',
      '/orgs/acme/repos',
      app.guard((req) =>
        paginate(
          standIn,
          req,
          upstreams.map((u, i) => ({ id: 100 + i, name: u.id.split('/')[1], full_name: u.id, owner: { login: 'acme' }, clone_url: `${standIn.url}/${u.id}.git`, private: true, fork: false, archived: false })),
        ),
      ),
    );
    standIn.on(
      'GET',
      /^\/repos\/acme\/([^/]+)$/,
      app.guard((_req, [name]) => {
        const index = upstreams.findIndex((u) => u.id === `acme/${name}`);
        return index < 0 ? { status: 404, body: { message: 'Not Found' } } : { status: 200, body: { id: 100 + index, full_name: `acme/${name}` } };
      }),
    );
    // git over HTTP beside the API, refusing what GitHub would: no token, an unknown one, an expired one.
    standIn.serveRaw((req, res) => {
      const match = /^\/(acme\/[^/]+)\.git\//.exec(req.url ?? '');
      if (!match) return false;
      const use = app.check(`git ${req.method} ${req.url}`, req.headers);
      if (use.refused) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' });
        res.end();
        return true;
      }
      const upstream = upstreams.find((u) => u.id === match[1]);
      // What GitHub answers for a repository it does not have (here: each repository's wiki, which has no pages).
      if (!upstream) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Repository not found.\n');
        return true;
      }
      setTimeout(() => void serveThroughBackend(join(upstream.tmp, 'upstream'), req, res), GIT_DELAY_MS);
      return true;
    });
    await standIn.start();
  });
  afterAll(async () => {
    await standIn.close();
    for (const u of upstreams) u.cleanup();
  });

  it('mints installation tokens and renews them before they expire, for the API and for git', async () => {
    const file = config('long', ['concurrency: 1', 'repositories:', '  - { owner: acme, type: org }']);
    const run = await runCli(['sync', '--config', file, '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { outcomes: Array<{ repo: string; ok: boolean }> };
    // Each repository and its wiki companion (no pages here: skipped, which is not a failure).
    const repositories = result.outcomes.filter((o) => !o.repo.endsWith('.wiki'));
    expect(repositories.map((o) => o.ok)).toEqual(upstreams.map(() => true));
    expect(result.outcomes.length).toBe(2 * upstreams.length);

    // The installation was found from the owner with the App's JWT, and every token request carried a valid one.
    expect(standIn.calls).toContain('GET /orgs/acme/installation');
    expect(app.jwts.length).toBeGreaterThanOrEqual(app.issued.length + 1);
    expect(app.jwts.filter((j) => !j.ok)).toEqual([]);
    // A run longer than a token's life: several tokens. A token is renewed when asked for in the last quarter of its
    // life, before it lapses (never earlier); asked for only after it lapsed, it is replaced without ever being sent.
    expect(app.uses.at(-1)!.at - app.uses[0]!.at).toBeGreaterThan(LIFETIME_MS);
    expect(app.issued.length).toBeGreaterThanOrEqual(2);
    const renewals = app.issued.slice(1).map((token, i) => ({ token, previous: app.issued[i]! }));
    const beforeExpiry = renewals.filter((r) => r.token.issuedAt < r.previous.expiresAt);
    expect(beforeExpiry.length, 'no token was renewed before it expired').toBeGreaterThanOrEqual(1);
    for (const r of renewals) expect(r.token.issuedAt).toBeGreaterThanOrEqual(r.previous.expiresAt - LIFETIME_MS / 4 - 50);
    // Nothing was refused, and git itself was handed the renewed tokens (not only the API).
    expect(app.uses.filter((u) => u.refused)).toEqual([]);
    const gitTokens = new Set(app.uses.filter((u) => u.what.startsWith('git ')).map((u) => u.token));
    const apiTokens = new Set(app.uses.filter((u) => u.what.startsWith('api ')).map((u) => u.token));
    expect(gitTokens.size).toBeGreaterThanOrEqual(2);
    expect(apiTokens.size).toBeGreaterThanOrEqual(2);
    for (const token of [...gitTokens, ...apiTokens]) expect(app.issued.map((t) => t.token)).toContain(token);
    // Each use came while its token was valid.
    for (const use of app.uses) expect(use.at).toBeLessThan(app.issued.find((t) => t.token === use.token)!.expiresAt);

    // No token and no line of the key in the output, the logs or anything else under the root.
    expectNoSecretIn('stdout', run.stdout);
    expectNoSecretIn('stderr', run.stderr);
    for (const entry of await walkFiles(join(dir, 'long'))) expectNoSecretIn(entry.rel, readFileSync(entry.abs, 'latin1'));
  });

  it('actions/backup with app-id and app-private-key: masks every line of the key, mints tokens, backs up', async () => {
    const before = app.issued.length;
    const run = await runAction('actions/backup', {
      inputs: { action: 'init', repositories: 'acme/repo-00\nacme/repo-01', 'backup-root': join(dir, 'action-root'), 'app-id': String(APP_ID), 'app-private-key': privateKey, 'upload-logs': 'false' },
      env: { GITHUB_API_URL: standIn.url },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const line of keyLines) expect(run.stdout).toContain(`::add-mask::${line}`);
    expect(app.issued.length).toBeGreaterThan(before);
    const minted = app.issued.slice(before).map((t) => t.token);
    expect(app.uses.filter((u) => u.what.startsWith('git ') && minted.includes(u.token!)).length).toBeGreaterThan(0);
    const printed = run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
    expectNoSecretIn('action stdout', printed);
    expectNoSecretIn('action stderr', run.stderr);
    expectNoSecretIn('job summary', run.summary);
    expectNoSecretIn('outputs', JSON.stringify(run.outputs));
  });

  it('a key that is not the App\'s exits 12 with what to check, and shows nothing of either key', async () => {
    const other = generateAppKeyPair();
    const otherKey = join(dir, 'secrets', 'other.pem');
    writeFileSync(otherKey, other.privateKey);
    const file = config('wrong-key', ['repositories:', '  - acme/repo-00']);
    const run = await runCli(['sync', '--config', file], { ...env(), GITHUB_APP_PRIVATE_KEY_FILE: otherKey });
    expect(run.code, run.stderr).toBe(12);
    expect(run.stderr).toMatch(/GitHub App 4242 could not authenticate while finding its installation on acme\/repo-00: GitHub refused the App's signed token \(401\): the private key is not this App's/);
    for (const line of other.privateKey.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) expect(run.stdout + run.stderr).not.toContain(line);
  });

  it('an App not installed on the owner exits 12; a key that is not PEM, or several owners, are usage errors', async () => {
    const elsewhere = await runCli(['init', '--config', config('not-installed', ['repositories:', '  - { owner: nobody, type: org }'])], env());
    expect(elsewhere.code, elsewhere.stderr).toBe(12);
    expect(elsewhere.stderr).toMatch(/finding its installation on nobody: not found \(404\): the App is not installed there/);
    expect(standIn.calls).toEqual(expect.arrayContaining(['GET /orgs/nobody/installation', 'GET /users/nobody/installation']));

    const notPem = join(dir, 'secrets', 'not.pem');
    writeFileSync(notPem, 'ghp_this-is-a-token-not-a-key-000000000000\n');
    const bad = await runCli(['status', '--config', config('not-pem', ['repositories:', '  - acme/repo-00'])], { ...env(), GITHUB_APP_PRIVATE_KEY_FILE: notPem });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/GITHUB_APP_PRIVATE_KEY_FILE is not a PEM private key .*its content is not shown/);
    expect(bad.stderr).not.toContain('this-is-a-token');

    const two = await runCli(['sync', '--config', config('two-owners', ['repositories:', '  - acme/repo-00', '  - other/thing'])], env());
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/one installation per run, and repositories of 2 owners are selected \(acme, other\)/);
  });
});
