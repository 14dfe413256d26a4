// A wiki whose repository's record says it is switched off (`has_wiki: false`, as the metadata capture read it) is
// not asked for (src/engine/wiki.ts): the git server hears nothing of it, the result says why, and what was backed
// up of it stays. An enabled wiki is asked for as before (a wiki with no page is still GitHub's "not found"), and a
// record the last capture did not read (the API failed, settings switched off) says nothing. git over HTTP through
// the real git-http-backend beside the API stand-in, as github.com serves both.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SyncRepoResult } from '../src/types.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { setEnv } from './helpers/env.ts';
import { createBackup, git, makeTempDir, refsOf, type TestBackup, type Upstream } from './helpers/git-fixtures.ts';
import type { RepoRecords } from './helpers/github-records.ts';
import type { GitHubStandIn } from './helpers/github-standin.ts';
import { startUpstreamOnGitHub } from './helpers/github-upstream.ts';

const TOKEN = 'ghp_WIKIoffTOKEN0123456789abcdefABCDEFabcd';
const cleanups = cleanupAfterEach();

let upstream: Upstream;
let standIn: GitHubStandIn;
let repo: RepoRecords;
let wikiBare: string;

beforeEach(async () => {
  cleanups.push(setEnv({ BACKUP_RETRY_BASE_MS: '1' }));
  ({ upstream, standIn, repo } = await startUpstreamOnGitHub(cleanups, { owner: 'acme', name: 'docs' }));
  upstream.commit('first');
  upstream.push('main');
  wikiBare = join(upstream.tmp, 'upstream/acme/docs.wiki.git');
});

/** A page added to the wiki on "GitHub" (the first one creates the wiki's repository, as GitHub does). */
function addWikiPage(file: string, text: string): void {
  if (!readdirSync(join(upstream.tmp, 'upstream/acme')).includes('docs.wiki.git')) {
    mkdirSync(wikiBare, { recursive: true });
    git(wikiBare, 'init', '--bare', '--quiet', '--initial-branch=master');
  }
  const work = makeTempDir('gpb-wiki-page-');
  git(work, 'clone', '--quiet', wikiBare, '.');
  writeFileSync(join(work, file), text);
  git(work, 'add', file);
  git(work, 'commit', '--quiet', '-m', `add ${file}`);
  git(work, 'push', '--quiet', 'origin', 'HEAD:master');
}

/** One sync: its outcomes, how many times the git server was asked for the wiki's refs, and every wiki request. */
async function syncOnce(backup: TestBackup): Promise<{ wiki: SyncRepoResult; repo: SyncRepoResult; probes: number; wikiRequests: number }> {
  const from = standIn.requests.length;
  const result = await backup.engine.sync();
  const outcome = (id: string) => {
    const found = result.outcomes.find((o) => o.repo === id);
    if (!found?.ok) throw new Error(`${id}: ${JSON.stringify(found)}`);
    return found.value as SyncRepoResult;
  };
  const wikiRequests = standIn.requests.slice(from).filter((r) => r.path.startsWith('/acme/docs.wiki.git/'));
  return { wiki: outcome('acme/docs.wiki'), repo: outcome('acme/docs'), probes: wikiRequests.filter((r) => r.path.endsWith('/info/refs')).length, wikiRequests: wikiRequests.length };
}

describe('the wiki of a repository whose record says it is switched off', () => {
  // One repository at a time, so the wiki's sync reads the record its repository's capture of the same run read.
  const backupOf = (metadata?: Record<string, boolean>) =>
    createBackup([], { repositories: [metadata ? { repo: `${standIn.url}/acme/docs.git`, metadata } : `${standIn.url}/acme/docs.git`], apiUrl: standIn.url, token: TOKEN, concurrency: 1 });

  it('is asked for while enabled, not once it is off (its backups kept), and again when the record could not be read', async () => {
    const backup = backupOf();

    // Enabled, no page yet: GitHub's "not found", handled as before.
    const empty = await syncOnce(backup);
    expect(empty.probes).toBe(1);
    expect(empty.wiki.skipped).toMatch(/GitHub has no wiki for acme\/docs/);

    addWikiPage('Home.md', '# Home\n');
    const enabled = await syncOnce(backup);
    expect(enabled.probes).toBe(1);
    expect(enabled.wiki.skipped).toBeUndefined();
    expect(enabled.wiki.snapshot).not.toBeNull();
    const mirror = join(backup.root, 'immutable/acme/docs.wiki.git');
    const mirrored = refsOf(mirror);
    expect(mirrored).toEqual(refsOf(wikiBare));

    // Switched off on GitHub (the pages stay on the git server here, so a probe would fetch them).
    repo.settings.has_wiki = false;
    addWikiPage('Later.md', 'written before it was switched off\n');
    const off = await syncOnce(backup);
    expect(off.repo.metadata?.kinds.settings).toMatchObject({ state: 'complete' });
    expect(off.wikiRequests).toBe(0);
    expect(off.wiki).toMatchObject({ skipped: expect.stringMatching(/record of acme\/docs says its wiki is switched off \(has_wiki false/), snapshot: null });
    // Nothing of what was backed up is deleted.
    expect(refsOf(mirror)).toEqual(mirrored);
    expect(off.wiki.snapshotCount).toBe(1);
    const status = await backup.engine.status();
    expect(status.outcomes.find((o) => o.repo === 'acme/docs.wiki')).toMatchObject({
      ok: true,
      value: { health: 'healthy', healthReason: expect.stringMatching(/says its wiki is switched off .*: not asked for at the last sync .*kept from before/), snapshotCount: 1 },
    });

    // A quiet day: the record answers 304, and the kept record still says off.
    const quiet = await syncOnce(backup);
    expect(quiet.wikiRequests).toBe(0);
    expect(quiet.wiki.skipped).toMatch(/switched off/);

    // The record cannot be read this run: today's behaviour, the wiki is asked for (and fetched).
    repo.fail('settings', 500);
    const failing = await syncOnce(backup);
    expect(failing.repo.metadata?.kinds.settings).toMatchObject({ state: 'failed' });
    // (Asked at least once: a mirror with a snapshot asks whether anything changed, then fetches what did.)
    expect(failing.probes).toBeGreaterThan(0);
    expect(failing.wiki.skipped).toBeUndefined();
    expect(refsOf(mirror)).toEqual(refsOf(wikiBare));
    repo.heal();

    // Back on: asked for, and what was added meanwhile is fetched.
    repo.settings.has_wiki = true;
    addWikiPage('Again.md', 'on again\n');
    const again = await syncOnce(backup);
    expect(again.probes).toBeGreaterThan(0);
    expect(again.wiki.snapshot).not.toBeNull();
    expect(refsOf(mirror)).toEqual(refsOf(wikiBare));
  });

  it('a record kept from before is not trusted once no capture reads it: the capture failed as a whole, or every kind is off', async () => {
    repo.settings.has_wiki = false;
    addWikiPage('Home.md', '# Home\n');
    const backup = backupOf();
    // The repository is synced first, so its capture has read the record by the time the wiki's turn comes.
    const first = await syncOnce(backup);
    expect(first.wikiRequests).toBe(0);
    expect(first.wiki.skipped).toMatch(/switched off/);

    // The metadata repository is damaged: the capture fails before it reads anything, and the wiki is asked for.
    const metadataRepo = join(backup.root, 'metadata/acme/docs.git');
    const aside = `${metadataRepo}.aside`;
    renameSync(metadataRepo, aside);
    mkdirSync(metadataRepo);
    const damaged = await backup.engine.sync();
    const wikiOutcome = damaged.outcomes.find((o) => o.repo === 'acme/docs.wiki');
    expect(wikiOutcome).toMatchObject({ ok: true, value: { snapshot: expect.objectContaining({ name: expect.any(String) }) } });
    expect(refsOf(join(backup.root, 'immutable/acme/docs.wiki.git'))).toEqual(refsOf(wikiBare));
    rmSync(metadataRepo, { recursive: true });
    renameSync(aside, metadataRepo);

    // Every kind switched off: no capture runs to read the record, so what it said last is not used.
    expect((await syncOnce(backup)).wikiRequests).toBe(0);
    const noCapture = backup.engineWith({ repositories: [{ repo: `${standIn.url}/acme/docs.git`, metadata: { issues: false, pulls: false, releases: false, settings: false } }], concurrency: 1 });
    const from = standIn.requests.length;
    const result = await noCapture.sync();
    expect(result.outcomes.find((o) => o.repo === 'acme/docs')).toMatchObject({ ok: true });
    const wiki = result.outcomes.find((o) => o.repo === 'acme/docs.wiki');
    expect(wiki?.ok && (wiki.value as SyncRepoResult).skipped).toBeUndefined();
    expect(standIn.requests.slice(from).filter((r) => r.path === '/acme/docs.wiki.git/info/refs').length).toBeGreaterThan(0);
  });

  it('with settings not captured, the record says nothing: the wiki is asked for as before', async () => {
    repo.settings.has_wiki = false;
    addWikiPage('Home.md', '# Home\n');
    const backup = backupOf({ settings: false });
    for (let day = 0; day < 2; day++) {
      const synced = await syncOnce(backup);
      expect(synced.repo.metadata?.kinds.settings).toMatchObject({ state: 'disabled' });
      expect(synced.probes).toBeGreaterThan(0);
      expect(synced.wiki.skipped).toBeUndefined();
    }
    expect(refsOf(join(backup.root, 'immutable/acme/docs.wiki.git'))).toEqual(refsOf(wikiBare));
  });
});
