// What a fetch brings is judged before any ref of the mirror changes (docs/OPERATIONS.md "Sync"): an upstream that
// empties mid-sync, an impostor at the old name, a changed url:, and ref names that are not UTF-8. Real git,
// real upstreams (paths, git-http-backend over HTTP), the GitHub API stand-in.
import { setEnv } from './helpers/env.ts';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config.ts';
import { createEngine } from '../src/engine/index.ts';
import { readMetadata } from '../src/metadata.ts';
import { refKeyFromBytes, STAGING_PREFIX } from '../src/refs.ts';
import { createBackup, createUpstream, git, makeTempDir, okValue, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { startGitHttpServer, serveThroughBackend } from './helpers/git-http.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function upstream(options?: { owner?: string; name?: string }): Upstream {
  const u = createUpstream(options);
  cleanups.push(u.cleanup);
  return u;
}

const mirrorOf = (root: string, id = 'acme/widgets') => join(root, 'immutable', `${id}.git`);
const snapshotsOf = (root: string, id = 'acme/widgets') => readdirSync(join(root, 'snapshots', id)).filter((n) => n.startsWith('snapshot-')).sort();
const errorOf = (result: { outcomes: Array<{ ok: boolean; error?: string }> }) => (result.outcomes[0]!.ok ? '' : result.outcomes[0]!.error!);

/** Delete every ref of a bare repository (its objects stay, as after a cleanup in progress). */
function emptyRepository(bare: string): void {
  const refs = git(bare, 'for-each-ref', '--format=delete %(refname)');
  execFileSync('git', ['update-ref', '--stdin'], { cwd: bare, input: refs });
}

/** Refs as raw bytes, straight from git: name bytes -> oid. */
function rawRefs(dir: string): Map<string, string> {
  const out = execFileSync('git', ['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: dir });
  const refs = new Map<string, string>();
  for (const line of out.toString('latin1').split('\n').filter(Boolean)) refs.set(line.slice(41), line.slice(0, 40));
  return refs;
}

/** Many branches, so that losing most of them trips the guard. */
function addBranches(u: Upstream, count: number): void {
  const head = git(u.work, 'rev-parse', 'HEAD').trim();
  const lines = Array.from({ length: count }, (_, i) => `create refs/heads/topic-${String(i).padStart(2, '0')} ${head}\n`).join('');
  execFileSync('git', ['update-ref', '--stdin'], { cwd: u.bare, input: lines });
}

/**
 * An upstream with 51 refs behind git-http-backend, synced once. Once armed, it empties itself right after the first
 * request of the given method has been answered, between the requests of one fetch.
 */
async function emptyingUpstream(method: 'GET' | 'POST') {
  const u = upstream();
  addBranches(u, 47);
  let armed = false;
  let emptied = false;
  const server = await startGitHttpServer(join(u.tmp, 'upstream'), (request) => {
    if (armed && request.method === method) {
      armed = false;
      emptied = true;
      emptyRepository(u.bare);
    }
  });
  cleanups.push(() => server.close());
  const b = createBackup([], { repositories: [`${server.url}/acme/widgets.git`] });
  const first = okValue(await b.engine.sync());
  const refsBefore = refsOf(mirrorOf(b.root));
  return { server, b, first, refsBefore, arm: () => (armed = true), fired: () => emptied };
}

describe('the mass-deletion guard judges what the fetch itself brought', () => {
  it('an upstream that empties after serving its ref list cannot wipe the mirror: no 0-ref snapshot, not healthy', async () => {
    // Empty the repository once its first ref listing (protocol v2 ls-refs, a POST) has been answered: the
    // moment that an ls-remote guard followed by fetch --prune used to fall into.
    const { server, b, first, refsBefore, arm, fired } = await emptyingUpstream('POST');
    expect(Object.keys(refsBefore)).toHaveLength(51);
    expect(first.snapshot).not.toBeNull();

    arm();
    const during = await b.engine.sync();
    // The fetch saw one consistent list (all 51 refs): nothing is deleted on the strength of another answer.
    expect(refsOf(mirrorOf(b.root))).toEqual(refsBefore);
    expect(okValue(during).changed).toBe(false);
    expect(server.requests.filter((r) => r.method === 'POST').length).toBeGreaterThan(0);
    expect(fired()).toBe(true);

    // The next sync sees the empty upstream and refuses; the mirror keeps everything.
    const after = await b.engine.sync();
    expect(after.exitCode).toBe(1);
    expect(errorOf(after)).toMatch(/upstream has no refs at all \(the mirror has 51\).*--allow-ref-loss/);
    expect(refsOf(mirrorOf(b.root))).toEqual(refsBefore);
    expect(Object.keys(refsOf(mirrorOf(b.root))).filter((r) => r.startsWith(STAGING_PREFIX))).toEqual([]);
    const names = snapshotsOf(b.root);
    expect(names).toEqual([first.snapshot!.name]);
    for (const name of names) expect((await readMetadata(join(b.root, 'snapshots/acme/widgets', name))).counts.refs).toBe(51);
    const status = okValue(await b.engine.status());
    expect(status.health).not.toBe('healthy');
    expect((await b.engine.health()).exitCode).toBe(1);
  });

  it('an upstream that empties after the first request of a sync fails that very sync, and nothing is lost', async () => {
    // The capability advertisement (protocol v2's first GET) is answered; the ref listing that follows is empty.
    const { b, first, refsBefore, arm, fired } = await emptyingUpstream('GET');
    arm();
    const during = await b.engine.sync();
    expect(fired()).toBe(true);
    expect(during.exitCode).toBe(1);
    expect(errorOf(during)).toMatch(/upstream has no refs at all \(the mirror has 51\)/);
    expect(refsOf(mirrorOf(b.root))).toEqual(refsBefore);
    expect(snapshotsOf(b.root)).toEqual([first.snapshot!.name]);
    expect(okValue(await b.engine.status()).health).not.toBe('healthy');
  });

  it('an empty mirror does not disable the guard: the newest snapshot is a baseline too', async () => {
    const u = upstream();
    addBranches(u, 20);
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync());
    expect(first.snapshot!.refCount).toBe(24);
    // The mirror is lost (a disk replaced, a botched manual cleanup) while upstream was wiped.
    rmSync(mirrorOf(b.root), { recursive: true, force: true });
    emptyRepository(u.bare);
    const refused = await b.engine.sync();
    expect(refused.exitCode).toBe(1);
    expect(errorOf(refused)).toMatch(new RegExp(`upstream has no refs at all \\(snapshot ${first.snapshot!.name} has 24\\)`));
    expect(snapshotsOf(b.root)).toEqual([first.snapshot!.name]);
  });

  it('removes staging refs a killed run left (loose or packed), and never snapshots them', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const mirror = mirrorOf(b.root);
    const main = refsOf(mirror)['refs/heads/main']!;
    // One a killed run left loose, one that something packed since.
    git(mirror, 'update-ref', `${STAGING_PREFIX}dead0000/refs/heads/packed`, main);
    git(mirror, 'pack-refs', '--all');
    git(mirror, 'update-ref', `${STAGING_PREFIX}dead0000/refs/heads/loose`, main);
    const snapshot = okValue(await b.engine.snapshot());
    expect(Object.keys((await readMetadata(snapshot.snapshot.path)).refs).some((r) => r.startsWith(STAGING_PREFIX))).toBe(false);
    expect(Object.keys(refsOf(snapshot.snapshot.path)).some((r) => r.startsWith(STAGING_PREFIX))).toBe(false);

    git(mirror, 'update-ref', `${STAGING_PREFIX}dead0001/refs/heads/ghost`, main);
    u.commit('more');
    u.push('main');
    const sync = okValue(await b.engine.sync());
    expect(sync.changes.updated).toEqual(['refs/heads/main']);
    expect(Object.keys(refsOf(mirror)).filter((r) => r.startsWith(STAGING_PREFIX))).toEqual([]);
    expect(Object.keys((await readMetadata(sync.snapshot!.path)).refs).some((r) => r.startsWith(STAGING_PREFIX))).toBe(false);
  });

  it('follows a branch renamed into its own directory (refs/heads/a/b -> refs/heads/a) and back', async () => {
    const u = upstream();
    u.push('main:refs/heads/release/v1');
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    git(u.work, 'push', '--quiet', 'origin', ':refs/heads/release/v1', 'main:refs/heads/release');
    const renamed = okValue(await b.engine.sync());
    expect(renamed.changes.added).toEqual(['refs/heads/release']);
    expect(renamed.changes.deleted).toEqual(['refs/heads/release/v1']);
    expect(refsOf(mirrorOf(b.root))).toEqual(refsOf(u.bare));
    git(u.work, 'push', '--quiet', 'origin', ':refs/heads/release', 'main:refs/heads/release/v2');
    okValue(await b.engine.sync());
    expect(refsOf(mirrorOf(b.root))).toEqual(refsOf(u.bare));
  });

  it('a sync with nothing new runs one ls-remote: no fetch, no ref writes', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const bin = makeTempDir('gpb-gitlog-');
    cleanups.push(() => rmSync(bin, { recursive: true, force: true }));
    const log = join(bin, 'calls');
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
    chmodSync(join(bin, 'git'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const again = okValue(await b.engineWith().sync());
      expect(again.changed).toBe(false);
    } finally {
      process.env.PATH = path;
    }
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const commands = calls.map((c) => c.split(' ').find((w, i, all) => i > 0 && all[i - 1] !== '-c' && !w.startsWith('-') && !w.includes('=')) ?? '');
    expect(commands).toEqual(['ls-remote']);
  });

  it('a mirror whose refs changed behind its back is fetched and repaired, not trusted to match the snapshot', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const mirror = mirrorOf(b.root);
    const main = refsOf(u.bare)['refs/heads/main']!;
    // A loose ref written into the mirror: packed-refs still matches the snapshot's copy, the loose file does not.
    git(mirror, 'update-ref', 'refs/heads/intruder', main);
    const loose = okValue(await b.engine.sync());
    expect(loose.changes.deleted).toEqual(['refs/heads/intruder']);
    expect(refsOf(mirror)).toEqual(refsOf(u.bare));
    // A packed ref deleted from the mirror: packed-refs is rewritten and no longer has the snapshot's checksum.
    git(mirror, 'update-ref', '-d', 'refs/heads/feature');
    const packed = okValue(await b.engine.sync());
    expect(packed.changes.added).toEqual(['refs/heads/feature']);
    expect(refsOf(mirror)).toEqual(refsOf(u.bare));
  });

  it('an upstream whose HEAD moved to another branch, with no ref changed, is fetched and followed', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    git(u.bare, 'symbolic-ref', 'HEAD', 'refs/heads/feature');
    const again = okValue(await b.engine.sync());
    expect(again.changed).toBe(false);
    expect(git(mirrorOf(b.root), 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/feature');
  });
});

/** A bare repository with a history of its own (no commit shared with createUpstream's). */
function unrelatedRepository(parent: string, name: string): string {
  const work = join(parent, `${name}-work`);
  git(parent, 'init', '--quiet', work);
  writeFileSync(join(work, 'README'), `another project entirely: ${name}\n`);
  git(work, 'add', 'README');
  git(work, 'commit', '--quiet', '-m', `${name} root`);
  for (let i = 0; i < 3; i++) git(work, 'commit', '--quiet', '--allow-empty', '-m', `${name} ${i}`);
  const bare = join(parent, `${name}.git`);
  git(parent, 'clone', '--quiet', '--bare', work, bare);
  return bare;
}

/** Replace the upstream at `u.bare` by an unrelated repository. */
function replaceWithUnrelated(u: Upstream): void {
  const bare = unrelatedRepository(u.tmp, 'impostor');
  rmSync(u.bare, { recursive: true, force: true });
  renameSync(bare, u.bare);
}

const packsOf = (mirror: string) => readdirSync(join(mirror, 'objects/pack')).sort();

describe('an impostor repository is refused', () => {
  it('refuses an unrelated history at the same URL, keeps the mirror and its packs, until --accept-new-identity', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync());
    const recorded = (await readMetadata(first.snapshot!.path)).upstream!;
    expect(recorded.rootCommits).toEqual([git(u.bare, 'rev-list', '--max-parents=0', 'main').trim()]);
    const refsBefore = refsOf(mirrorOf(b.root));
    const packsBefore = packsOf(mirrorOf(b.root));

    replaceWithUnrelated(u);
    const refused = await b.engine.sync();
    expect(refused.exitCode).toBe(1);
    expect(errorOf(refused)).toMatch(/looks like another repository: none of the 1 refs upstream has now shares any history.*--accept-new-identity/);
    expect(refsOf(mirrorOf(b.root))).toEqual(refsBefore);
    expect(packsOf(mirrorOf(b.root))).toEqual(packsBefore);
    expect(snapshotsOf(b.root)).toEqual([first.snapshot!.name]);

    const accepted = okValue(await b.engine.sync({ acceptNewIdentity: true, allowRefLoss: true }));
    expect(refsOf(mirrorOf(b.root))).toEqual(refsOf(u.bare));
    const now = (await readMetadata(accepted.snapshot!.path)).upstream!;
    expect(now.rootCommits).toEqual([git(u.bare, 'rev-list', '--max-parents=0', 'HEAD').trim()]);
    expect(now.rootCommits).not.toEqual(recorded.rootCommits);
    // The accepted identity is the baseline from now on.
    okValue(await b.engine.sync());
  });

  it('checks a re-created mirror against the root commits the newest snapshot recorded', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    rmSync(mirrorOf(b.root), { recursive: true, force: true });
    replaceWithUnrelated(u);
    const refused = await b.engine.sync({ allowRefLoss: true });
    expect(errorOf(refused)).toMatch(/none of the root commits recorded in snapshot/);
  });

  it('accepts new branches, orphan branches and force-pushes of the same repository', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    git(u.work, 'checkout', '--quiet', '--orphan', 'gh-pages');
    u.commit('pages root', 'index.html');
    u.push('gh-pages');
    git(u.work, 'checkout', '--quiet', 'main');
    git(u.work, 'reset', '--quiet', '--hard', 'HEAD~1');
    u.commit('rewritten');
    git(u.work, 'push', '--quiet', '--force', 'origin', 'main');
    const sync = okValue(await b.engine.sync());
    expect(sync.changes.added).toEqual(['refs/heads/gh-pages']);
    expect(sync.changes.forceUpdated).toEqual(['refs/heads/main']);
    expect((await readMetadata(sync.snapshot!.path)).upstream!.rootCommits).toHaveLength(2);
  });
});

describe('GitHub identity: the repository id, renames, and an impostor at the old name', () => {
  it('records the id, follows and records a rename, refuses another id at the old name', async () => {
    const u = upstream();
    const standIn = await new GitHubStandIn().start();
    cleanups.push(() => standIn.close());
    const gitRoot = join(u.tmp, 'upstream');
    standIn.serveRaw((req, res) => {
      if (!/\.git\//.test(req.url ?? '')) return false;
      void serveThroughBackend(gitRoot, req, res);
      return true;
    });
    let answer: 'original' | 'renamed' | 'impostor' = 'original';
    standIn.on('GET', '/api/v3/repos/acme/widgets', () => {
      if (answer === 'original') return { status: 200, body: { id: 42, full_name: 'acme/widgets' } };
      if (answer === 'impostor') return { status: 200, body: { id: 77, full_name: 'acme/widgets' } };
      return { status: 301, headers: { location: `${standIn.url}/api/v3/repositories/42` }, body: { message: 'Moved Permanently', url: `${standIn.url}/api/v3/repositories/42` } };
    });
    standIn.on('GET', '/api/v3/repositories/42', () => ({ status: 200, body: { id: 42, full_name: 'acme/gadgets' } }));
    const url = `${standIn.url}/acme/widgets.git`;
    const b = createBackup([], { repositories: [url], apiUrl: `${standIn.url}/api/v3` });

    const first = okValue(await b.engine.sync());
    const meta = await readMetadata(first.snapshot!.path);
    expect(meta.upstream).toMatchObject({ url, github: { id: 42, fullName: 'acme/widgets' } });
    expect(standIn.calls).toContain('GET /api/v3/repos/acme/widgets');
    expect(standIn.calls.some((c) => c.startsWith('GET /acme/widgets.git/info/refs'))).toBe(true);

    // Renamed on GitHub: the old name redirects. Nothing else changed, and the rename is still recorded.
    answer = 'renamed';
    const renamed = okValue(await b.engine.sync());
    expect(renamed.changed).toBe(false);
    expect(renamed.snapshot).not.toBeNull();
    expect((await readMetadata(renamed.snapshot!.path)).upstream!.github).toEqual({ id: 42, fullName: 'acme/gadgets', renamedFrom: 'acme/widgets' });
    expect(standIn.calls).toContain('GET /api/v3/repositories/42');

    // Someone created a new repository at the old name: a fork, so even its history is related.
    answer = 'impostor';
    u.commit('the fork moves on');
    u.push('main');
    const mirrorBefore = refsOf(mirrorOf(b.root));
    const refused = await b.engine.sync();
    expect(errorOf(refused)).toMatch(/GitHub answers with another repository \(id 77, acme\/widgets\); snapshot .* is of id 42 \(acme\/gadgets\)/);
    expect(refsOf(mirrorOf(b.root))).toEqual(mirrorBefore);
    const accepted = okValue(await b.engine.sync({ acceptNewIdentity: true }));
    expect((await readMetadata(accepted.snapshot!.path)).upstream!.github).toEqual({ id: 77, fullName: 'acme/widgets' });
  });

  it('judges by history alone when the API cannot answer', async () => {
    const u = upstream();
    const standIn = await new GitHubStandIn().start();
    cleanups.push(() => standIn.close());
    const gitRoot = join(u.tmp, 'upstream');
    standIn.serveRaw((req, res) => {
      if (!/\.git\//.test(req.url ?? '')) return false;
      void serveThroughBackend(gitRoot, req, res);
      return true;
    });
    let answer: 'error' | 'garbage' = 'error';
    // Retries of the 500 back off in milliseconds here, not seconds.
    cleanups.push(setEnv({ BACKUP_RETRY_BASE_MS: '10' }));
    standIn.on('GET', '/api/v3/repos/acme/widgets', () => (answer === 'error' ? { status: 500, body: { message: 'Server Error' } } : { status: 200, body: { name: 'widgets' } }));
    // Only the identity lookup asks the API here: the metadata capture, which reads the same record, is off.
    const metadata = { issues: false, pulls: false, releases: false, settings: false };
    const b = createBackup([], { repositories: [{ repo: 'acme/widgets', url: `${standIn.url}/acme/widgets.git`, metadata }], apiUrl: `${standIn.url}/api/v3` });
    const first = okValue(await b.engine.sync());
    expect((await readMetadata(first.snapshot!.path)).upstream!.github).toBeUndefined();
    // An answer without an id and full name is no answer either.
    answer = 'garbage';
    u.commit('next');
    u.push('main');
    const second = okValue(await b.engine.sync());
    expect((await readMetadata(second.snapshot!.path)).upstream!.github).toBeUndefined();
    // The 500 is retried twice (the retry plugin of src/github/client.ts), the garbage answer is taken as it is.
    expect(standIn.calls.filter((c) => c === 'GET /api/v3/repos/acme/widgets')).toHaveLength(4);

    replaceWithUnrelated(u);
    expect(errorOf(await b.engine.sync())).toMatch(/shares any history/);
    // An API that never answers is given up after BACKUP_STALL_SECONDS (at most 30 s), not waited on forever.
    standIn.on('GET', '/api/v3/repos/acme/widgets', () => new Promise(() => undefined));
    process.env.BACKUP_STALL_SECONDS = '1';
    try {
      const started = Date.now();
      expect(errorOf(await b.engineWith().sync())).toMatch(/shares any history/);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      delete process.env.BACKUP_STALL_SECONDS;
    }
  });
});

describe('the configured URL is the truth', () => {
  function writeConfig(dir: string, url: string): string {
    const file = join(dir, 'config.yml');
    writeFileSync(file, `repositories:\n  - repo: acme/widgets\n    url: ${JSON.stringify(url)}\n`);
    return file;
  }

  it('follows a changed url: and records the URL actually fetched in snapshot.json, the state file, the log and the mirror', async () => {
    const u = upstream();
    const moved = join(u.tmp, 'moved', 'widgets.git');
    mkdirSync(join(u.tmp, 'moved'));
    git(u.tmp, 'clone', '--quiet', '--bare', u.bare, moved);
    const root = join(makeTempDir('gpb-root-'), 'backup');
    const engineFor = (url: string) => createEngine({ settings: resolveSettings({ root, configPath: writeConfig(u.tmp, url) }, {}) });
    okValue(await engineFor(u.bare).sync());

    // The new home moves on; the old one does not.
    const work = join(u.tmp, 'moved-work');
    git(u.tmp, 'clone', '--quiet', moved, work);
    writeFileSync(join(work, 'new.txt'), 'only at the new URL\n');
    git(work, 'add', 'new.txt');
    git(work, 'commit', '--quiet', '-m', 'only at the new URL');
    git(work, 'push', '--quiet', 'origin', 'main');

    const sync = okValue(await engineFor(moved).sync());
    expect(sync.changes.updated).toEqual(['refs/heads/main']);
    expect(refsOf(mirrorOf(root))['refs/heads/main']).toBe(refsOf(moved)['refs/heads/main']);
    const meta = await readMetadata(sync.snapshot!.path);
    expect(meta.sourceUrl).toBe(moved);
    expect(meta.upstream!.url).toBe(moved);
    expect(JSON.parse(readFileSync(join(root, 'state/repos/acme/widgets.json'), 'utf8')).sourceUrl).toBe(moved);
    expect(git(mirrorOf(root), 'config', '--get', 'remote.origin.url').trim()).toBe(moved);
    const log = readdirSync(join(root, 'logs')).map((f) => readFileSync(join(root, 'logs', f), 'utf8')).join('');
    expect(log).toContain(`source changed from ${u.bare} to ${moved}`);

    // A url: pointing at an unrelated repository is an impostor like any other.
    const stranger = unrelatedRepository(u.tmp, 'stranger');
    const mirrorRefs = refsOf(mirrorOf(root));
    const refused = await engineFor(stranger).sync();
    expect(errorOf(refused)).toMatch(/looks like another repository/);
    expect(refsOf(mirrorOf(root))).toEqual(mirrorRefs);
  });

  it('--repo OWNER/NAME selects the configured entry with its url:, not github.com', async () => {
    const u = upstream();
    const root = join(makeTempDir('gpb-root-'), 'backup');
    const settings = resolveSettings({ root, configPath: writeConfig(u.tmp, u.bare), repositories: ['acme/widgets'] }, {});
    expect(settings.repositories).toEqual([{ repo: 'acme/widgets', url: u.bare }]);
    const sync = okValue(await createEngine({ settings }).sync());
    expect((await readMetadata(sync.snapshot!.path)).sourceUrl).toBe(u.bare);
    // A pick that names nothing configured stays what it says.
    expect(resolveSettings({ root, configPath: writeConfig(u.tmp, u.bare), repositories: ['acme/other'] }, {}).repositories).toEqual(['acme/other']);
  });
});

describe('ref names that are not UTF-8', () => {
  const nameBytes = (suffix: number[]) => Buffer.concat([Buffer.from('refs/heads/bad-'), Buffer.from(suffix)]);

  function setRaw(bare: string, name: Buffer, oid: string): void {
    execFileSync('git', ['update-ref', '--stdin', '-z'], { cwd: bare, input: Buffer.concat([Buffer.from('update '), name, Buffer.from(`\0${oid}\0\0`)]) });
  }

  it('are stored losslessly, stay two refs when they differ only in invalid bytes, and a change to one is snapshotted', async () => {
    const u = upstream();
    const main = git(u.bare, 'rev-parse', 'main').trim();
    const feature = git(u.bare, 'rev-parse', 'feature').trim();
    const fffe = nameBytes([0xff, 0xfe]);
    const fffd = nameBytes([0xff, 0xfd]);
    setRaw(u.bare, fffe, main);
    setRaw(u.bare, fffd, main);
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync());
    const keyFe = refKeyFromBytes(fffe);
    const keyFd = refKeyFromBytes(fffd);
    expect(keyFe).toBe('refs/heads/bad-\\xff\\xfe');
    expect(keyFd).toBe('refs/heads/bad-\\xff\\xfd');
    const meta = await readMetadata(first.snapshot!.path);
    expect(meta.format).toBe(2);
    expect(meta.refs[keyFe]).toBe(main);
    expect(meta.refs[keyFd]).toBe(main);
    expect(meta.counts.refs).toBe(6);
    // The mirror and the snapshot hold the very bytes upstream has.
    expect(rawRefs(mirrorOf(b.root))).toEqual(rawRefs(u.bare));
    expect(rawRefs(first.snapshot!.path)).toEqual(rawRefs(u.bare));

    setRaw(u.bare, fffd, feature);
    const second = okValue(await b.engine.sync());
    expect(second.changes.forceUpdated).toEqual([keyFd]);
    expect(second.snapshot).not.toBeNull();
    const after = await readMetadata(second.snapshot!.path);
    expect([after.refs[keyFe], after.refs[keyFd]]).toEqual([main, feature]);
    expect(rawRefs(mirrorOf(b.root)).get(fffd.toString('latin1'))).toBe(feature);

    expect(okValue(await b.engine.verify({ all: true })).snapshots.every((s) => s.ok)).toBe(true);
    const to = join(u.tmp, 'restored.git');
    okValue(await b.engine.restore({ to }));
    expect(rawRefs(to)).toEqual(rawRefs(u.bare));

    // Deleting one of the pair deletes exactly that one.
    execFileSync('git', ['update-ref', '--stdin', '-z'], { cwd: u.bare, input: Buffer.concat([Buffer.from('delete '), fffe, Buffer.from('\0\0')]) });
    const third = okValue(await b.engine.sync());
    expect(third.changes.deleted).toEqual([keyFe]);
    expect(rawRefs(mirrorOf(b.root))).toEqual(rawRefs(u.bare));
  });
});

describe('snapshot.json format 1 (before lossless names and upstream identity)', () => {
  it('is still read, verified and restored (its lossy names included); the next sync records the identity in format 2', async () => {
    const u = upstream();
    const bad = Buffer.concat([Buffer.from('refs/heads/bad-'), Buffer.from([0xff])]);
    execFileSync('git', ['update-ref', '--stdin', '-z'], { cwd: u.bare, input: Buffer.concat([Buffer.from('create '), bad, Buffer.from(`\0${git(u.bare, 'rev-parse', 'main').trim()}\0`)]) });
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync());
    const file = join(first.snapshot!.path, 'snapshot.json');
    const current = JSON.parse(readFileSync(file, 'utf8'));
    delete current.upstream;
    // What a format-1 writer recorded: the name decoded as UTF-8, the invalid byte replaced.
    current.refs = Object.fromEntries(Object.entries(current.refs).map(([k, v]) => [k.replace('\\xff', '\uFFFD'), v]));
    expect(Object.keys(current.refs)).toContain('refs/heads/bad-\uFFFD');
    chmodSync(first.snapshot!.path, 0o755);
    chmodSync(file, 0o644);
    writeFileSync(file, `${JSON.stringify({ ...current, format: 1 }, null, 2)}\n`);
    chmodSync(file, 0o444);
    chmodSync(first.snapshot!.path, 0o555);
    const old = await readMetadata(first.snapshot!.path);
    expect(old.format).toBe(1);
    expect(old.upstream).toBeUndefined();
    expect(okValue(await b.engine.verify()).snapshots[0]!.ok).toBe(true);
    const to = join(u.tmp, 'from-format-1.git');
    okValue(await b.engine.restore({ to }));
    expect(rawRefs(to)).toEqual(rawRefs(u.bare));

    const next = okValue(await b.engine.sync());
    expect(next.changed).toBe(false);
    expect(Object.keys((await readMetadata(next.snapshot!.path)).refs)).toContain('refs/heads/bad-\\xff');
    const meta = await readMetadata(next.snapshot!.path);
    expect(meta.format).toBe(2);
    expect(meta.upstream!.rootCommits).toEqual([git(u.bare, 'rev-list', '--max-parents=0', 'main').trim()]);
    expect(okValue(await b.engine.sync()).snapshot).toBeNull();
  });
});
