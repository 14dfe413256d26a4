// A GitHub repository's wiki is backed up as the companion repository owner/name.wiki: mirrored, snapshotted,
// verified and restored like any repository; a repository without a wiki is not an error, and any other remote
// gets no companion. Git is served by the real git-http-backend beside the GitHub API stand-in, as github.com does.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config.ts';
import { ExitCode } from '../src/errors.ts';
import { createEngine } from '../src/engine/index.ts';
import type { SyncRepoResult } from '../src/types.ts';
import { wikiParentOf, wikiTargetOf, wikiUrlOf } from '../src/wiki.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { git, makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { serveThroughBackend } from './helpers/git-http.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';

const cleanups = cleanupAfterEach();
const TOKEN = 'ghp_wikiTestToken0123456789';

/** A bare repository under `root` at owner/name.git with one commit per file given. */
function bareWith(root: string, id: string, files: Record<string, string>): string {
  const bare = join(root, `${id}.git`);
  mkdirSync(bare, { recursive: true });
  git(bare, 'init', '--bare', '--quiet', '--initial-branch=main');
  const work = makeTempDir('gpb-wiki-work-');
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  git(work, 'init', '--quiet', '--initial-branch=main');
  for (const [file, text] of Object.entries(files)) {
    writeFileSync(join(work, file), text);
    git(work, 'add', file);
    git(work, 'commit', '--quiet', '-m', `add ${file}`);
  }
  git(work, 'push', '--quiet', bare, 'main');
  return bare;
}

/** GitHub on 127.0.0.1: the API stand-in, with git's smart HTTP for the repositories under `gitRoot` beside it. */
async function gitHub(gitRoot: string): Promise<GitHubStandIn> {
  const standIn = await new GitHubStandIn().start();
  cleanups.push(() => void standIn.close());
  standIn.serveRaw((req, res) => {
    if (!/\.git\//.test(req.url ?? '')) return false;
    void serveThroughBackend(gitRoot, req, res);
    return true;
  });
  const ids = new Map<string, number>();
  standIn.on('GET', /^\/api\/v3\/repos\/([^/]+)\/([^/]+)$/, (_request, [owner, name]) => {
    const fullName = `${owner}/${name}`;
    if (!ids.has(fullName)) ids.set(fullName, 100 + ids.size);
    return { status: 200, body: { id: ids.get(fullName), full_name: fullName } };
  });
  return standIn;
}

function engineFor(standIn: GitHubStandIn, root: string, config: string) {
  const dir = makeTempDir('gpb-wiki-config-');
  const file = join(dir, 'backup.config.yml');
  writeFileSync(file, config);
  return createEngine({ settings: resolveSettings({ root, configPath: file, token: TOKEN }, { GITHUB_API_URL: `${standIn.url}/api/v3` }) });
}

const byRepo = <T>(outcomes: Array<{ repo: string; ok: boolean } & ({ ok: true; value: T } | { ok: false; error: string })>) =>
  Object.fromEntries(outcomes.map((o) => [o.repo, o]));

describe('wiki targets (pure)', () => {
  const server = 'https://github.com';
  const repo = { owner: 'acme', name: 'widgets', id: 'acme/widgets', url: 'https://github.com/acme/widgets.git' };

  it('a GitHub repository gets the companion owner/name.wiki at name.wiki.git', () => {
    expect(wikiTargetOf(repo, server)).toEqual({ owner: 'acme', name: 'widgets.wiki', id: 'acme/widgets.wiki', url: 'https://github.com/acme/widgets.wiki.git' });
    expect(wikiUrlOf('git@github.com:acme/widgets.git')).toBe('git@github.com:acme/widgets.wiki.git');
    expect(wikiUrlOf('https://github.com/acme/widgets/')).toBe('https://github.com/acme/widgets.wiki.git');
    expect(wikiParentOf(wikiTargetOf(repo, server)!, server)).toBe('acme/widgets');
  });

  it('no companion for a wiki itself, a switched-off wiki, or a remote that is not GitHub', () => {
    expect(wikiTargetOf(wikiTargetOf(repo, server)!, server)).toBeNull();
    expect(wikiTargetOf({ ...repo, metadata: { wiki: false } }, server)).toBeNull();
    expect(wikiTargetOf({ ...repo, url: 'https://gitlab.com/acme/widgets.git' }, server)).toBeNull();
    expect(wikiTargetOf({ ...repo, url: '/srv/git/acme/widgets.git' }, server)).toBeNull();
    expect(wikiParentOf({ ...repo, name: 'x.wiki', id: 'acme/x.wiki', url: '/srv/git/acme/x.wiki.git' }, server)).toBeNull();
  });
});

describe('the wiki of a GitHub repository', () => {
  it('is mirrored, snapshotted, verified and restored; a repository without a wiki adds nothing and fails nothing', async () => {
    const gitRoot = makeTempDir('gpb-wiki-git-');
    cleanups.push(() => rmSync(gitRoot, { recursive: true, force: true }));
    bareWith(gitRoot, 'acme/docs', { 'README.md': 'docs\n' });
    const wiki = bareWith(gitRoot, 'acme/docs.wiki', { 'Home.md': '# Home\n', 'Setup.md': 'how to set up\n' });
    bareWith(gitRoot, 'acme/plain', { 'README.md': 'no wiki here\n' });
    bareWith(gitRoot, 'acme/quiet', { 'README.md': 'wiki switched off in our config\n' });
    bareWith(gitRoot, 'acme/quiet.wiki', { 'Home.md': 'must not be fetched\n' });
    const standIn = await gitHub(gitRoot);
    const root = join(makeTempDir('gpb-wiki-root-'), 'backup');
    const config = ['repositories:', '  - acme/docs', '  - acme/plain', '  - repo: acme/quiet', '    metadata: { wiki: false }', ''].join('\n');
    const engine = engineFor(standIn, root, config);

    const sync = await engine.sync();
    expect(sync.exitCode).toBe(ExitCode.OK);
    expect(sync.outcomes.map((o) => o.repo)).toEqual(['acme/docs', 'acme/docs.wiki', 'acme/plain', 'acme/plain.wiki', 'acme/quiet']);
    const outcomes = byRepo<SyncRepoResult>(sync.outcomes);
    const wikiSync = outcomes['acme/docs.wiki'];
    if (!wikiSync?.ok) throw new Error(`wiki sync failed: ${JSON.stringify(wikiSync)}`);
    expect(wikiSync.value.snapshot).not.toBeNull();
    expect(wikiSync.value.skipped).toBeUndefined();
    const noWiki = outcomes['acme/plain.wiki'];
    expect(noWiki).toMatchObject({ ok: true, value: { skipped: expect.stringMatching(/GitHub has no wiki for acme\/plain/), snapshot: null } });

    // The wiki's mirror and snapshot hold the wiki's refs, and the snapshot clones with plain git.
    expect(refsOf(join(root, 'immutable/acme/docs.wiki.git'))).toEqual(refsOf(wiki));
    const clone = join(makeTempDir('gpb-wiki-clone-'), 'wiki');
    git(root, 'clone', '--quiet', wikiSync.value.snapshot!.path, clone);
    expect(readFileSync(join(clone, 'Home.md'), 'utf8')).toBe('# Home\n');

    // What GitHub was asked: the wiki over git with the token, never an API record for a wiki, and nothing at all
    // for a wiki switched off.
    const wikiFetch = standIn.requests.find((r) => r.path === '/acme/docs.wiki.git/info/refs');
    expect(wikiFetch?.headers.authorization).toBe(`basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`);
    expect(standIn.calls.some((c) => c.startsWith('GET /acme/plain.wiki.git/info/refs'))).toBe(true);
    expect(standIn.calls.filter((c) => c.includes('/api/v3/') && c.includes('.wiki'))).toEqual([]);
    expect(standIn.calls.filter((c) => c.includes('quiet.wiki'))).toEqual([]);

    // status and health: the wiki is a repository of its own, named as the wiki of its parent; a repository
    // without a wiki shows no wiki (nothing is backed up, nothing is missing).
    const status = await engine.status();
    expect(status.outcomes.map((o) => o.repo)).toEqual(['acme/docs', 'acme/docs.wiki', 'acme/plain', 'acme/quiet']);
    const wikiStatus = byRepo(status.outcomes)['acme/docs.wiki'];
    expect(wikiStatus).toMatchObject({ ok: true, value: { health: 'healthy', wikiOf: 'acme/docs', snapshotCount: 1 } });
    expect((await engine.health()).exitCode).toBe(ExitCode.OK);
    expect((await engine.verify({ all: true })).exitCode).toBe(ExitCode.OK);
    // Named on purpose, the missing wiki says why there is nothing.
    const named = createEngine({ settings: { ...resolveSettings({ root, repositories: ['acme/plain.wiki'], token: TOKEN }, { GITHUB_API_URL: `${standIn.url}/api/v3` }) } });
    expect(byRepo((await named.status()).outcomes)['acme/plain.wiki']).toMatchObject({
      ok: true,
      value: { health: 'healthy', healthReason: expect.stringMatching(/GitHub has no wiki for acme\/plain .*nothing to back up/), warnings: [], wikiOf: 'acme/plain' },
    });

    // Restore --to gives the wiki back as a repository of its own.
    const restored = join(makeTempDir('gpb-wiki-restore-'), 'docs.wiki');
    const restore = await createEngine({ settings: resolveSettings({ root, repositories: ['acme/docs.wiki'] }, { GITHUB_API_URL: `${standIn.url}/api/v3` }) }).restore({ to: restored, checkout: true });
    expect(restore.exitCode).toBe(ExitCode.OK);
    expect(readFileSync(join(restored, 'Setup.md'), 'utf8')).toBe('how to set up\n');

    // The wiki is emptied on GitHub: GitHub answers "not found". Its mirror and snapshots stay as they were.
    const mirrorRefs = refsOf(join(root, 'immutable/acme/docs.wiki.git'));
    rmSync(wiki, { recursive: true, force: true });
    const after = await engine.sync();
    expect(after.exitCode).toBe(ExitCode.OK);
    expect(byRepo<SyncRepoResult>(after.outcomes)['acme/docs.wiki']).toMatchObject({ ok: true, value: { skipped: expect.stringMatching(/no wiki/) } });
    expect(refsOf(join(root, 'immutable/acme/docs.wiki.git'))).toEqual(mirrorRefs);
    expect(byRepo((await engine.status()).outcomes)['acme/docs.wiki']).toMatchObject({
      ok: true,
      value: { health: 'healthy', snapshotCount: 1, healthReason: expect.stringMatching(/no wiki .*kept from before/) },
    });
  });

  it('a repository that is not there fails with its own exit code: its missing wiki does not make the run partial', async () => {
    const gitRoot = makeTempDir('gpb-wiki-git-');
    cleanups.push(() => rmSync(gitRoot, { recursive: true, force: true }));
    const standIn = await gitHub(gitRoot);
    const root = join(makeTempDir('gpb-wiki-root-'), 'backup');
    const sync = await engineFor(standIn, root, 'repositories: [acme/gone]\n').sync();
    expect(sync.outcomes.map((o) => [o.repo, o.ok])).toEqual([
      ['acme/gone', false],
      ['acme/gone.wiki', true],
    ]);
    expect(sync.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(sync.failed).toEqual(['acme/gone']);
  });
});
