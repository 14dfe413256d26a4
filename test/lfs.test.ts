// LFS objects of a GitHub repository: `git lfs fetch --all` into the mirror from GitHub's own LFS endpoint, with the
// token, while a `.lfsconfig` in the repository names another server that must hear nothing. The objects are
// hard-linked into snapshots, checked by verify against their oid, pushed to the store and restored.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSettings, type BackupSettings } from '../src/config.ts';
import { ExitCode } from '../src/errors.ts';
import { createEngine } from '../src/engine/index.ts';
import { walkFiles } from '../src/fsutil.ts';
import type { SyncRepoResult } from '../src/types.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { git, makeTempDir } from './helpers/git-fixtures.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';
import { startLfsServer, uploadLfsObjects, type LfsServer } from './helpers/lfs-server.ts';

const cleanups = cleanupAfterEach();
const TOKEN = 'ghp_lfsTestToken0123456789abcdef';
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Fixture {
  server: LfsServer;
  /** Where the repository's .lfsconfig sends LFS: it must receive nothing. */
  decoy: GitHubStandIn;
  work: string;
  root: string;
  /** Content of every LFS file version committed, by oid. */
  contents: Map<string, Buffer>;
  settings: BackupSettings;
}

/** acme/art on the LFS server: two commits of LFS files (three object versions) and a hostile .lfsconfig. */
async function fixture(): Promise<Fixture> {
  const tmp = makeTempDir('gpb-lfs-');
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const decoy = await new GitHubStandIn().start();
  cleanups.push(() => void decoy.close());
  const gitRoot = join(tmp, 'git');
  const bare = join(gitRoot, 'acme/art.git');
  git(tmp, 'init', '--bare', '--quiet', '--initial-branch=main', bare);
  const work = join(tmp, 'work');
  git(tmp, 'init', '--quiet', '--initial-branch=main', work);
  // The clean filter; the push skips git-lfs's hook (--no-verify): the objects reach the server's store by hand.
  git(work, 'lfs', 'install', '--local', '--skip-repo');
  git(work, 'lfs', 'track', '*.bin');
  const contents = new Map<string, Buffer>();
  const write = (file: string) => {
    const bytes = randomBytes(40_000);
    writeFileSync(join(work, file), bytes);
    contents.set(sha256(bytes), bytes);
  };
  write('model.bin');
  git(work, 'add', '.gitattributes', 'model.bin');
  git(work, 'commit', '--quiet', '-m', 'first model');
  write('model.bin');
  write('weights.bin');
  // A repository may name any LFS server, and narrow what is fetched: neither may change what we fetch or where.
  writeFileSync(join(work, '.lfsconfig'), `[lfs]\n\turl = ${decoy.url}/evil/art.git/info/lfs\n\tfetchexclude = *\n`);
  git(work, 'add', 'model.bin', 'weights.bin', '.lfsconfig');
  git(work, 'commit', '--quiet', '-m', 'second model, weights, and an .lfsconfig');
  git(work, 'push', '--quiet', '--no-verify', bare, 'main');
  const server = await startLfsServer({ gitRoot, store: join(tmp, 'lfs-store'), token: TOKEN });
  cleanups.push(() => void server.standIn.close());
  expect(uploadLfsObjects(work, server.store)).toEqual([...contents.keys()].sort());
  const root = join(tmp, 'backup');
  const settings = resolveSettings({ root, repositories: ['acme/art'], token: TOKEN }, { GITHUB_API_URL: `${server.url}/api/v3` });
  return { server, decoy, work, root, contents, settings };
}

const lfsFilesIn = async (dir: string) => (await walkFiles(join(dir, 'lfs/objects')).catch(() => [])).map((f) => ({ oid: f.rel.split('/').at(-1)!, abs: f.abs, ino: f.ino }));

function artOutcome(result: { outcomes: Array<{ repo: string; ok: boolean }> }): SyncRepoResult {
  const outcome = result.outcomes.find((o) => o.repo === 'acme/art') as { ok: true; value: SyncRepoResult } | { ok: false; error: string } | undefined;
  if (!outcome?.ok) throw new Error(`acme/art failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
}

describe('LFS objects of a GitHub repository', () => {
  it('are fetched from GitHub\'s own endpoint with the token, hard-linked into the snapshot, verified and restored', async () => {
    const f = await fixture();
    const engine = createEngine({ settings: f.settings });
    const sync = artOutcome(await engine.sync());
    expect(sync.lfs).toEqual({ fetched: true, newObjects: 3, objects: 3, bytes: 120_000 });
    expect(f.server.batchedOids.sort()).toEqual([...f.contents.keys()].sort());

    // Every version of every LFS file, in the mirror and in the snapshot: the same inodes, not copies.
    const mirror = join(f.root, 'immutable/acme/art.git');
    const inMirror = await lfsFilesIn(mirror);
    expect(inMirror.map((o) => o.oid).sort()).toEqual([...f.contents.keys()].sort());
    for (const o of inMirror) expect(readFileSync(o.abs).equals(f.contents.get(o.oid)!)).toBe(true);
    const inSnapshot = await lfsFilesIn(sync.snapshot!.path);
    expect(inSnapshot.map((o) => [o.oid, o.ino])).toEqual(inMirror.map((o) => [o.oid, o.ino]));
    // git-lfs's scratch (lfs/tmp) stays out of the snapshot.
    expect(readdirSync(join(sync.snapshot!.path, 'lfs'))).toEqual(['objects']);

    // The credential went to the LFS endpoint of the repository, on GitHub; the .lfsconfig's server heard nothing.
    const batches = f.server.standIn.requests.filter((r) => r.path === '/acme/art.git/info/lfs/objects/batch');
    expect(batches.length).toBeGreaterThan(0);
    for (const r of batches) expect(r.headers.authorization).toMatch(new RegExp(`^basic ${BASIC}$`, 'i'));
    expect(f.decoy.requests).toEqual([]);
    // The downloads went with the authorization the batch answer gave them.
    const downloads = f.server.standIn.requests.filter((r) => r.path.startsWith('/lfs-objects/'));
    expect(downloads.length).toBeGreaterThanOrEqual(3);
    for (const r of downloads) expect(r.headers.authorization).toMatch(/RemoteAuth /);
    // Our LFS settings were per invocation: the mirror's config names no LFS server (git-lfs itself records only
    // its repository format version there).
    expect(git(mirror, 'config', '--file', 'config', '--get-regexp', '^lfs\\.').trim()).toBe('lfs.repositoryformatversion 0');
    // ...and reached no file of the backup.
    for (const file of await walkFiles(f.root)) {
      if (file.rel.includes('/objects/')) continue;
      const text = readFileSync(file.abs, 'latin1');
      expect(text.includes(TOKEN) || text.includes(BASIC), file.rel).toBe(false);
    }

    // Nothing changed: no LFS fetch runs at all.
    const before = f.server.standIn.requests.length;
    const again = artOutcome(await engine.sync());
    expect(again.lfs).toEqual({ fetched: false, newObjects: 0, objects: 3, bytes: 120_000 });
    expect(again.snapshot).toBeNull();
    expect(f.server.standIn.requests.slice(before).filter((r) => r.path.includes('/info/lfs'))).toEqual([]);

    // status counts them; verify checks them.
    const status = (await engine.status()).outcomes.find((o) => o.repo === 'acme/art');
    expect(status).toMatchObject({ ok: true, value: { lfs: { objects: 3, bytes: 120_000 } } });
    expect((await engine.verify()).exitCode).toBe(ExitCode.OK);

    // restore --to: a clone whose LFS files check out from the restored objects, with no network.
    const restored = join(makeTempDir('gpb-lfs-restore-'), 'art');
    expect((await engine.restore({ to: restored, checkout: true })).exitCode).toBe(ExitCode.OK);
    expect((await lfsFilesIn(join(restored, '.git'))).map((o) => o.oid).sort()).toEqual([...f.contents.keys()].sort());
    git(restored, 'lfs', 'install', '--local', '--skip-repo');
    git(restored, 'lfs', 'checkout');
    expect(sha256(readFileSync(join(restored, 'weights.bin')))).toSatisfy((oid: string) => f.contents.has(oid));
    expect(statSync(join(restored, 'model.bin')).size).toBe(40_000);

    // A damaged LFS object is found by its name, whatever snapshot.json recorded.
    const damaged = inSnapshot[0]!;
    chmodSync(damaged.abs, 0o644);
    writeFileSync(damaged.abs, 'not the content\n');
    const verify = await engine.verify();
    expect(verify.exitCode).toBe(ExitCode.FAILURE);
    expect(JSON.stringify(verify.outcomes)).toMatch(/LFS object content does not match its oid/);
  });

  it('restore --push sends them to the new repository\'s LFS endpoint before its refs, and nowhere else', async () => {
    const f = await fixture();
    const engine = createEngine({ settings: f.settings });
    artOutcome(await engine.sync());
    const newBare = join(f.root, '..', 'git', 'acme', 'art-restored.git');
    git(join(f.root, '..'), 'init', '--bare', '--quiet', '--initial-branch=main', newBare);
    git(newBare, 'config', 'http.receivepack', 'true');
    const remote = `${f.server.url}/acme/art-restored.git`;
    const lfsModes = async () => (await walkFiles(join(f.root, 'snapshots'))).filter((e) => e.rel.includes('/lfs/')).map((e) => [e.rel, e.mode]);
    const modesBefore = await lfsModes();
    expect(modesBefore).toHaveLength(3);

    const dry = await engine.restore({ push: remote, dryRun: true });
    expect(dry.outcomes[0]).toMatchObject({ ok: true, value: { mode: 'push', lfs: { objects: 3, bytes: 120_000 } } });
    expect(f.server.uploadedOids).toEqual([]);

    const before = f.server.standIn.requests.length;
    const pushed = await engine.restore({ push: remote });
    expect(pushed.exitCode, JSON.stringify(pushed.outcomes)).toBe(ExitCode.OK);
    expect(pushed.outcomes[0]).toMatchObject({ ok: true, value: { lfs: { objects: 3, bytes: 120_000 } } });
    // Every object, checked against its oid by the server, in the new repository's own LFS storage...
    expect(f.server.uploadedOids.sort()).toEqual([...f.contents.keys()].sort().map((oid) => `acme/art-restored ${oid}`));
    for (const [oid, bytes] of f.contents) expect(readFileSync(join(f.server.uploadsOf('acme/art-restored'), oid)).equals(bytes)).toBe(true);
    // ...uploaded before the refs arrived, with the token only on the batch request; the .lfsconfig's server heard nothing.
    const received = f.server.standIn.requests.slice(before);
    const firstUpload = received.findIndex((r) => r.path.startsWith('/lfs-upload/'));
    const firstReceivePack = received.findIndex((r) => r.path.endsWith('/git-receive-pack'));
    expect(firstUpload).toBeGreaterThanOrEqual(0);
    expect(firstReceivePack).toBeGreaterThan(firstUpload);
    for (const r of received.filter((r) => r.path.endsWith('/info/lfs/objects/batch'))) expect(r.headers.authorization).toMatch(new RegExp(`^basic ${BASIC}$`, 'i'));
    for (const r of received.filter((r) => r.path.startsWith('/lfs-upload/'))) expect(r.headers.authorization).toMatch(/^RemoteAuth /);
    expect(f.decoy.requests).toEqual([]);
    expect(git(newBare, 'rev-parse', 'refs/heads/main')).toBe(git(join(f.root, 'immutable/acme/art.git'), 'rev-parse', 'refs/heads/main'));
    // The scratch repository read the snapshot's LFS objects through a link, and left them as they were.
    expect(await lfsModes()).toEqual(modesBefore);

    // Pushed again over it (--force): the server has every object, so none is uploaded twice.
    expect((await engine.restore({ push: remote, force: true })).exitCode).toBe(ExitCode.OK);
    expect(f.server.uploadedOids).toHaveLength(3);
  });

  it('restore --push of a snapshot with LFS objects to a remote off the GitHub server is refused before anything is pushed', async () => {
    const f = await fixture();
    const engine = createEngine({ settings: f.settings });
    artOutcome(await engine.sync());
    const elsewhere = join(makeTempDir('gpb-lfs-elsewhere-'), 'art.git');
    git(join(elsewhere, '..'), 'init', '--bare', '--quiet', elsewhere);
    const refused = await engine.restore({ push: elsewhere });
    expect(refused.exitCode).not.toBe(ExitCode.OK);
    expect(JSON.stringify(refused.outcomes)).toMatch(/holds 3 LFS object\(s\), and .* is not on http:\/\/127\.0\.0\.1:\d+/);
    expect(git(elsewhere, 'for-each-ref').trim()).toBe('');
  });

  it('a later sync fetches only the objects of the new history: one new commit, then a force-push', async () => {
    const f = await fixture();
    // Tags along main: the next fetch excludes main's old tip alone, which reaches them.
    git(f.work, 'tag', 'v1', 'HEAD~1');
    git(f.work, 'tag', 'v2', 'HEAD');
    git(f.work, 'push', '--quiet', '--no-verify', join(f.root, '..', 'git', 'acme/art.git'), 'v1', 'v2');
    const engine = createEngine({ settings: f.settings });
    expect(artOutcome(await engine.sync()).lfs).toMatchObject({ fetched: true, newObjects: 3 });
    const commitLfsFile = (file: string, message: string) => {
      const bytes = randomBytes(30_000);
      writeFileSync(join(f.work, file), bytes);
      git(f.work, 'add', file);
      git(f.work, 'commit', '--quiet', '-m', message);
      uploadLfsObjects(f.work, f.server.store);
      return sha256(bytes);
    };
    const newRequests = (from: number) => f.server.standIn.requests.slice(from);

    // One new commit with one new LFS object: the batch API is asked for that object and downloads exactly it.
    const added = commitLfsFile('extra.bin', 'an extra model');
    git(f.work, 'push', '--quiet', '--no-verify', join(f.root, '..', 'git', 'acme/art.git'), 'main');
    let batched = f.server.batchedOids.length;
    let from = f.server.standIn.requests.length;
    const second = artOutcome(await engine.sync());
    expect(second.lfs).toEqual({ fetched: true, newObjects: 1, objects: 4, bytes: 150_000 });
    expect(f.server.batchedOids.slice(batched)).toEqual([added]);
    expect(newRequests(from).filter((r) => r.path.startsWith('/lfs-objects/')).map((r) => r.path)).toEqual([`/lfs-objects/${added}`]);
    // Still only GitHub's endpoint: the .lfsconfig in the new history names a server that hears nothing.
    expect(f.decoy.requests).toEqual([]);

    // History rewritten: main goes back to the first commit and gets a new one; its object is fetched.
    git(f.work, 'reset', '--quiet', '--hard', 'HEAD~2');
    const rewritten = commitLfsFile('rewritten.bin', 'history rewritten');
    git(f.work, 'push', '--quiet', '--no-verify', '--force', join(f.root, '..', 'git', 'acme/art.git'), 'main');
    batched = f.server.batchedOids.length;
    from = f.server.standIn.requests.length;
    const forced = artOutcome(await engine.sync());
    expect(forced.lfs).toMatchObject({ fetched: true, newObjects: 1, objects: 5 });
    expect(f.server.batchedOids.slice(batched)).toEqual([rewritten]);
    expect((await lfsFilesIn(forced.snapshot!.path)).map((o) => o.oid)).toContain(rewritten);

    // An object gone from the mirror: the next fetch reads the whole history again, and it comes back.
    const lost = (await lfsFilesIn(join(f.root, 'immutable/acme/art.git'))).find((o) => o.oid === rewritten)!;
    rmSync(lost.abs);
    commitLfsFile('later.bin', 'later');
    git(f.work, 'push', '--quiet', '--no-verify', join(f.root, '..', 'git', 'acme/art.git'), 'main');
    batched = f.server.batchedOids.length;
    expect(artOutcome(await engine.sync()).lfs).toMatchObject({ fetched: true, newObjects: 2, objects: 6 });
    expect(f.server.batchedOids.slice(batched)).toContain(rewritten);
    // The log says which history each fetch read.
    const log = readdirSync(join(f.root, 'logs')).map((name) => readFileSync(join(f.root, 'logs', name), 'utf8')).join('');
    expect([...log.matchAll(/LFS objects fetched.*? history="([^"(]*)/g)].map((m) => m[1]!.trim())).toEqual(['whole', 'new since the last fetch', 'new since the last fetch', 'whole']);
    expect(log).toMatch(/history="new since the last fetch \(1 new tips, 1 excluded\)"/);
  });

  it('reach the store with the snapshot, and come back from it', async () => {
    const f = await fixture();
    const storeDir = makeTempDir('gpb-lfs-store-');
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const engine = createEngine({ settings: { ...f.settings, store: { url: `file://${storeDir}` } } });
    const sync = artOutcome(await engine.sync());
    expect(sync.pushed?.snapshots).toEqual([sync.snapshot!.name]);
    const restored = join(makeTempDir('gpb-lfs-from-store-'), 'art.git');
    const restore = await createEngine({ settings: { ...f.settings, root: join(storeDir, '..', 'fresh-root'), store: { url: `file://${storeDir}` } } }).restore({ fromStore: true, to: restored });
    expect(restore.exitCode).toBe(ExitCode.OK);
    expect((await lfsFilesIn(restored)).map((o) => o.oid).sort()).toEqual([...f.contents.keys()].sort());
  });

  it('a repository without LFS content never runs git-lfs, until a commit brings a pointer', async () => {
    const f = await fixture();
    // acme/plain: the same server, a history with no LFS pointer (but a small blob that merely looks like text).
    const plain = join(f.root, '..', 'git', 'acme/plain.git');
    git(join(f.root, '..'), 'init', '--bare', '--quiet', '--initial-branch=main', plain);
    const work = join(f.root, '..', 'plain-work');
    git(join(f.root, '..'), 'init', '--quiet', '--initial-branch=main', work);
    writeFileSync(join(work, 'notes.txt'), 'version 2 of the notes\n');
    git(work, 'add', 'notes.txt');
    git(work, 'commit', '--quiet', '-m', 'notes');
    git(work, 'push', '--quiet', plain, 'main');
    const engine = createEngine({ settings: { ...f.settings, repositories: ['acme/plain'] } });
    const outcome = (result: Awaited<ReturnType<typeof engine.sync>>) => {
      const o = result.outcomes.find((x) => x.repo === 'acme/plain');
      if (!o?.ok) throw new Error(JSON.stringify(o));
      return o.value;
    };
    const mirror = join(f.root, 'immutable/acme/plain.git');
    expect(outcome(await engine.sync()).lfs).toEqual({ fetched: false, newObjects: 0, objects: 0, bytes: 0 });
    // git-lfs makes lfs/ whenever it runs: it never did.
    expect(readdirSync(mirror)).not.toContain('lfs');
    writeFileSync(join(work, 'more.txt'), 'more\n');
    git(work, 'add', 'more.txt');
    git(work, 'commit', '--quiet', '-m', 'more notes');
    git(work, 'push', '--quiet', plain, 'main');
    expect(outcome(await engine.sync()).lfs).toMatchObject({ fetched: false, objects: 0 });
    expect(readdirSync(mirror)).not.toContain('lfs');

    // Now a commit brings an LFS file: its pointer is found in the day's history and git-lfs fetches the object.
    git(work, 'lfs', 'install', '--local', '--skip-repo');
    git(work, 'lfs', 'track', '*.bin');
    const bytes = randomBytes(5000);
    writeFileSync(join(work, 'data.bin'), bytes);
    git(work, 'add', '.gitattributes', 'data.bin');
    git(work, 'commit', '--quiet', '-m', 'data');
    git(work, 'push', '--quiet', '--no-verify', plain, 'main');
    uploadLfsObjects(work, f.server.store);
    const withLfs = outcome(await engine.sync());
    expect(withLfs.lfs).toEqual({ fetched: true, newObjects: 1, objects: 1, bytes: 5000 });
    expect((await lfsFilesIn(withLfs.snapshot!.path)).map((o) => o.oid)).toEqual([sha256(bytes)]);
  });

  it('a token the LFS endpoint refuses fails the sync after the git data is snapshotted; switched off, nothing is asked', async () => {
    const f = await fixture();
    const wrong = createEngine({ settings: { ...f.settings, token: 'ghp_notTheRightOne000000000000' } });
    const failed = await wrong.sync();
    const outcome = failed.outcomes.find((o) => o.repo === 'acme/art')!;
    expect(outcome.ok).toBe(false);
    // (git-http-backend takes any token: the git data is fetched, LFS is refused.)
    expect(JSON.stringify(outcome)).toMatch(/snapshot snapshot-\S+ holds its git data, but its LFS objects could not be fetched/);
    expect(f.decoy.requests).toEqual([]);
    // git-lfs logs every GIT_* variable when it fails: the token must be in none of them, nor anywhere on disk.
    const wrongBasic = Buffer.from('x-access-token:ghp_notTheRightOne000000000000').toString('base64');
    for (const file of await walkFiles(f.root)) {
      const text = readFileSync(file.abs, 'latin1');
      expect(text.includes('ghp_notTheRightOne') || text.includes(wrongBasic), file.rel).toBe(false);
    }

    // Downloads that cannot connect: git-lfs fails and would log its environment, the token's header with it, into
    // lfs/logs/.
    f.server.hrefBase = 'http://127.0.0.1:9';
    const missing = (await createEngine({ settings: f.settings }).sync()).outcomes.find((o) => o.repo === 'acme/art')!;
    expect(JSON.stringify(missing)).toMatch(/LFS objects could not be fetched/);
    expect(JSON.stringify(missing)).not.toMatch(/Environment:|GIT_CONFIG_PARAMETERS/);
    for (const file of await walkFiles(f.root)) {
      const text = readFileSync(file.abs, 'latin1');
      expect(text.includes(TOKEN) || text.includes(BASIC), file.rel).toBe(false);
    }
    // (Its log went to stderr, redacted and cut, not into lfs/logs/.)
    expect(statSync(join(f.root, 'immutable/acme/art.git/lfs/logs')).isFile()).toBe(true);

    const off = createEngine({ settings: { ...f.settings, repositories: [{ repo: 'acme/art', metadata: { lfs: false } }] } });
    const before = f.server.standIn.requests.length;
    const sync = artOutcome(await off.sync({ forceSnapshot: true }));
    expect(sync.lfs).toBeUndefined();
    expect(f.server.standIn.requests.slice(before).filter((r) => r.path.includes('/info/lfs'))).toEqual([]);
  });
});
