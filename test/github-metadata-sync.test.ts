// sync captures a GitHub repository's records after the git fetch (docs/METADATA_FORMAT.md): git over HTTP and the
// API on one loopback stand-in, as github.com serves both. A kind that fails is a warning in the result and the log,
// never a failed sync; a repository elsewhere gets git data only; the token reaches no file under the root.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { setEnv } from './helpers/env.ts';
import { createBackup, createUpstream, git, okValue, type Upstream } from './helpers/git-fixtures.ts';
import type { GitHubRecords, RepoRecords } from './helpers/github-records.ts';
import type { GitHubStandIn } from './helpers/github-standin.ts';
import { startUpstreamOnGitHub } from './helpers/github-upstream.ts';

const TOKEN = 'ghp_SYNCmetadataTOKEN0123456789abcdefABCD';
const cleanups = cleanupAfterEach();

let standIn: GitHubStandIn;
let records: GitHubRecords;
let repo: RepoRecords;
let upstream: Upstream;

beforeEach(async () => {
  ({ upstream, standIn, records, repo } = await startUpstreamOnGitHub(cleanups));
  repo.addLabel('bug');
  repo.addIssue({ title: 'It breaks', labels: ['bug'] });
  repo.comment(1, 'Confirmed.');
  repo.addRelease('v1.0', [{ name: 'notes.txt', bytes: Buffer.from('release notes\n') }]);
});

/** Every file under `dir`, as text. */
function filesUnder(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push({ path, text: readFileSync(path).toString('latin1') });
    }
  };
  walk(dir);
  return out;
}

describe('sync with GitHub metadata', () => {
  it('captures the records after the fetch, and the token reaches no file under the root', async () => {
    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`], apiUrl: standIn.url, token: TOKEN });
    const value = okValue(await b.engine.sync());
    expect(value.snapshot).not.toBeNull();
    expect(value.metadata).toMatchObject({ committed: true, kinds: { issues: { state: 'complete', count: 1 }, releases: { state: 'complete', count: 1 }, labels: { count: 1 } } });
    const metadataRepo = join(b.root, 'metadata/acme/widgets.git');
    expect(git(metadataRepo, 'rev-parse', 'main').trim()).toBe(value.metadata!.commit);
    expect(JSON.parse(git(metadataRepo, 'show', 'main:issues/1.json')).comments[0].body).toBe('Confirmed.');
    expect(statSync(join(b.root, 'state/metadata/acme/widgets.json')).isFile()).toBe(true);
    // The API calls carried the token (so there was something to leak); the asset's download host did not get it.
    expect(records.apiRequests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    expect(records.downloads).toHaveLength(1);
    expect(records.downloads[0]!.headers.authorization).toBeUndefined();
    for (const file of filesUnder(b.root)) expect(file.text.includes(TOKEN), file.path).toBe(false);

    // A second sync with nothing new: only 304s for the records, no metadata commit.
    const answered = records.answers.length;
    const second = okValue(await b.engine.sync());
    expect(second.metadata).toMatchObject({ committed: false, commit: value.metadata!.commit });
    const statuses = records.answers.slice(answered).map((a) => `${a.path} ${a.status}`);
    // Every request carried an ETag and was answered 304, the identity lookup's (src/engine/identity.ts) too: it asks
    // with the ETag the capture kept, and the capture's settings read its answer instead of asking again.
    expect(statuses.length).toBeGreaterThanOrEqual(7);
    expect(statuses.filter((s) => !s.endsWith(' 304'))).toEqual([]);
    expect(statuses.filter((s) => s.startsWith('/repos/acme/widgets '))).toEqual(['/repos/acme/widgets 304']);
    expect(standIn.requests.filter((r) => r.path.startsWith('/repos/acme/widgets')).slice(-statuses.length).every((r) => typeof r.headers['if-none-match'] === 'string')).toBe(true);
    // The identity a 304 stands for is the one recorded: the history check found nothing to say.
    expect(readdirSync(join(b.root, 'logs')).map((f) => readFileSync(join(b.root, 'logs', f), 'utf8')).join('')).not.toMatch(/GitHub did not say which repository this is/);

    // A setting changed on GitHub: that one answer carries it into repository.json.
    repo.settings.description = 'Widgets, now for everyone';
    const third = okValue(await b.engine.sync());
    expect(third.metadata).toMatchObject({ committed: true, changedDocuments: 1 });
    expect(JSON.parse(git(metadataRepo, 'show', 'main:repository.json')).description).toBe('Widgets, now for everyone');
  });

  it('a capture state that kept no id for the record (an older version): the next sync learns it, the one after asks conditionally', async () => {
    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`], apiUrl: standIn.url, token: TOKEN });
    okValue(await b.engine.sync());
    const stateFile = join(b.root, 'state/metadata/acme/widgets.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.pages['/repos/acme/widgets']).toMatchObject({ id: repo.id, fullName: 'acme/widgets', admin: true });
    delete state.pages['/repos/acme/widgets'].id;
    delete state.pages['/repos/acme/widgets'].fullName;
    writeFileSync(stateFile, JSON.stringify(state));
    const recordAnswers = async () => {
      const from = records.answers.length;
      expect(okValue(await b.engine.sync()).metadata).toMatchObject({ committed: false });
      return records.answers.slice(from).filter((a) => a.path === '/repos/acme/widgets').map((a) => a.status);
    };
    // Unconditional without the id (a 200), and its answer, the same as the one kept, gives the mark the id...
    expect(await recordAnswers()).toEqual([200]);
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).pages['/repos/acme/widgets']).toMatchObject({ id: repo.id, fullName: 'acme/widgets' });
    // ...so the next lookup asks with the ETag.
    expect(await recordAnswers()).toEqual([304]);
  });

  it('a kind that fails is a warning in the result and the log, and the git backup succeeds', async () => {
    repo.fail('releases', 451);
    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`], apiUrl: standIn.url, token: TOKEN });
    const result = await b.engine.sync();
    expect(result.exitCode).toBe(0);
    const value = okValue(result);
    expect(value.snapshot).not.toBeNull();
    expect(value.metadata!.kinds.releases).toMatchObject({ state: 'failed', reason: expect.stringMatching(/HTTP 451/) });
    expect(value.metadata!.kinds.issues!.state).toBe('complete');
    const log = readdirSync(join(b.root, 'logs')).map((f) => readFileSync(join(b.root, 'logs', f), 'utf8')).join('');
    expect(log).toMatch(/WARN +acme\/widgets: GitHub metadata releases failed: releases: HTTP 451, unavailable for legal reasons/);
  });

  it('one repository whose records all fail (451) stops neither its git backup nor the other repository', async () => {
    git(join(upstream.tmp, 'upstream', 'acme'), 'clone', '--bare', '--quiet', upstream.bare, 'gadgets.git');
    const gadgets = records.repo('acme', 'gadgets');
    gadgets.addIssue({ title: 'Gadget issue' });
    repo.fail('repository', 451);
    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`, `${standIn.url}/acme/gadgets.git`], apiUrl: standIn.url, token: TOKEN, concurrency: 1 });
    const result = await b.engine.sync();
    expect(result.exitCode).toBe(0);
    const byRepo = Object.fromEntries(result.outcomes.map((o) => [o.repo, o.ok ? o.value : null]));
    expect(byRepo['acme/widgets']!.snapshot).not.toBeNull();
    expect(Object.values(byRepo['acme/widgets']!.metadata!.kinds).map((k) => k.state)).toEqual(Array(7).fill('failed'));
    expect(byRepo['acme/gadgets']!.metadata!.kinds.issues).toMatchObject({ state: 'complete', count: 1 });
    expect(Object.values(byRepo['acme/gadgets']!.metadata!.kinds).every((k) => k.state === 'complete')).toBe(true);
  });

  it('the rate-limit wait of a run comes out of one budget: past it, the next repository stops at its limit and resumes next run', async () => {
    cleanups.push(setEnv({ BACKUP_RETRY_BASE_MS: '5', BACKUP_API_MAX_WAIT_SECONDS: '3' }));
    git(join(upstream.tmp, 'upstream', 'acme'), 'clone', '--bare', '--quiet', upstream.bare, 'gadgets.git');
    const gadgets = records.repo('acme', 'gadgets');
    // Each repository's labels answer a secondary limit once, Retry-After 2: the run may wait 3 in all.
    repo.limitSecondary('labels', 1, 2);
    gadgets.limitSecondary('labels', 1, 2);
    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`, `${standIn.url}/acme/gadgets.git`], apiUrl: standIn.url, token: TOKEN, concurrency: 1 });
    const result = await b.engine.sync();
    const byRepo = Object.fromEntries(result.outcomes.map((o) => [o.repo, o.ok ? o.value : null]));
    // Repositories run in the order of their ids (gadgets first): it waits 2, and widgets may not wait 2 more.
    expect(byRepo['acme/gadgets']!.metadata!.kinds.labels!.state).toBe('complete');
    expect(byRepo['acme/widgets']!.metadata!.kinds.labels).toMatchObject({ state: 'partial', reason: expect.stringMatching(/rate limit still exceeded after the bounded wait/) });
    expect(byRepo['acme/widgets']!.metadata!.kinds.issues).toMatchObject({ state: 'partial', reason: expect.stringMatching(/^not read this run: labels: rate limit/) });
    expect(byRepo['acme/widgets']!.snapshot).not.toBeNull();
    // The next run has a budget of its own, and the limit is over: widgets is captured whole.
    const again = await b.engineWith().sync();
    const widgets = again.outcomes.find((o) => o.repo === 'acme/widgets')!;
    expect(widgets.ok && Object.values(widgets.value.metadata!.kinds).every((k) => k.state === 'complete')).toBe(true);
  });

  it('an API that stops answering is given up at the repository\'s deadline, not waited on request after request', async () => {
    const saved = process.env.BACKUP_REPO_TIMEOUT_SECONDS;
    process.env.BACKUP_REPO_TIMEOUT_SECONDS = '4';
    cleanups.push(() => (saved === undefined ? delete process.env.BACKUP_REPO_TIMEOUT_SECONDS : (process.env.BACKUP_REPO_TIMEOUT_SECONDS = saved)));
    standIn.on('GET', '/repos/acme/widgets/labels', () => new Promise(() => undefined));
    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`], apiUrl: standIn.url, token: TOKEN });
    const started = Date.now();
    const result = await b.engine.sync();
    // Each request's own timeout is 60 s: only the deadline ends it this soon.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.outcomes[0]!.ok).toBe(false);
    expect(result.outcomes[0]!.ok ? '' : result.outcomes[0]!.error).toMatch(/passed its deadline of 4 s/);
  });

  it('config switches turn kinds off per repository; a repository elsewhere gets git data only', async () => {
    const elsewhere = createUpstream({ name: 'gadgets' });
    cleanups.push(() => elsewhere.cleanup());
    const b = createBackup([], {
      repositories: [{ repo: 'acme/widgets', url: `${standIn.url}/acme/widgets.git`, metadata: { issues: false, releases: false } }, elsewhere.bare],
      apiUrl: standIn.url,
      token: TOKEN,
    });
    const result = await b.engine.sync();
    const byRepo = Object.fromEntries(result.outcomes.map((o) => [o.repo, o.ok ? o.value : null]));
    expect(byRepo['acme/widgets']!.metadata!.kinds).toMatchObject({
      issues: { state: 'disabled', reason: 'switched off in the config (metadata.issues: false)' },
      releases: { state: 'disabled' },
      pulls: { state: 'complete' },
    });
    expect(records.apiRequests.some((r) => r.path === '/repos/acme/widgets/issues' || r.path === '/repos/acme/widgets/releases')).toBe(false);
    expect(records.downloads).toEqual([]);
    // The local upstream (a path) is no GitHub repository: no metadata, no API call for it.
    const local = result.outcomes.find((o) => o.repo === 'acme/gadgets')!;
    expect(local.ok && local.value.metadata).toBeUndefined();
    expect(readdirSync(join(b.root, 'metadata'))).toEqual(['acme']);
    expect(readdirSync(join(b.root, 'metadata/acme'))).toEqual(['widgets.git']);
  });
});

describe('metadata: in the config', () => {
  it('takes the kinds and the asset cap per repository or owner, and names a bad value with its line', () => {
    const parsed = parseConfig(['repositories:', '  - repo: acme/widgets', '    metadata: { issues: false, assetMaxBytes: 1000 }', '  - owner: acme', '    metadata: { releases: false, assets: false, settings: false, pulls: true }', ''].join('\n'), 'backup.config.yml');
    expect(parsed.repositories).toMatchObject([{ metadata: { issues: false, assetMaxBytes: 1000 } }, { metadata: { releases: false, assets: false, settings: false, pulls: true } }]);
    expect(() => parseConfig(['repositories:', '  - repo: acme/widgets', '    metadata: { assetMaxBytes: -1 }', ''].join('\n'), 'backup.config.yml')).toThrow(
      /backup.config.yml:3: repositories.0.metadata.assetMaxBytes: Too small/,
    );
  });
});
