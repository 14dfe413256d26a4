// The store wired into the engine and the CLI, end to end: the built backup-manager against s3rver on 127.0.0.1
// (behind the recording proxy of test/helpers/s3-standin.ts) and real git repositories. Assertions are on the
// objects s3rver holds and the requests it received.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestKey, objectKey } from '../src/store/format.ts';
import type { InitRepoResult, RunResult, StoreListRepoResult, StorePruneRunResult, StorePushRepoResult, StoreVerifyRepoResult, SyncRepoResult, RestoreRepoResult } from '../src/types.ts';
import { runCli, startCli, type CliResult } from './helpers/cli.ts';
import { createUpstream, git, makeTempDir, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { S3RVER_ACCESS_KEY_ID, S3StandIn } from './helpers/s3-standin.ts';
import { contentFingerprint } from './helpers/store-fixtures.ts';
import { descendants, processCommandLine } from './helpers/sandbox.ts';

const TOKEN = 'ghp_STOREe2eTOKENstoreE2Etoken0123456789';
const AWS_SECRET = 'aws-secret-STOREe2e/Unique+Secret0123456789';
const PREFIX = 'gpb';

let s3: S3StandIn;
let upstream: Upstream;
let base: string;

const env = (more: Record<string, string> = {}) => ({
  AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  GITHUB_TOKEN: TOKEN,
  GIT_CONFIG_NOSYSTEM: '1',
  ...more,
});

/** A config for a fresh root, backing up the upstream into the shared store. */
function config(name: string, store: Record<string, unknown> = {}): { file: string; root: string } {
  const root = join(base, name, 'root');
  const file = join(base, `${name}.config.json`);
  const section = { url: `s3://backups/${PREFIX}`, endpoint: s3.url, region: 'us-east-1', forcePathStyle: true, ...store };
  writeFileSync(file, JSON.stringify({ root, repositories: [upstream.bare], store: section }));
  return { file, root };
}

function json<T>(run: CliResult): RunResult<T> {
  return JSON.parse(run.stdout) as RunResult<T>;
}

function value<T>(run: CliResult): T {
  const outcome = json<T>(run).outcomes[0]!;
  if (!outcome.ok) throw new Error(`failed: ${outcome.error}`);
  return outcome.value;
}

/** Keys s3rver holds under the store's prefix. */
function bucketKeys(): string[] {
  const dir = join(s3.directory, 'backups');
  const out: string[] = [];
  const visit = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('._S3rver_object')) out.push(path.slice(0, -'._S3rver_object'.length));
    }
  };
  if (existsSync(dir)) visit('');
  return out.filter((k) => k.startsWith(`${PREFIX}/`)).map((k) => k.slice(PREFIX.length + 1)).sort();
}

interface ManifestFile {
  path: string;
  size: number;
  /** Absent for the files the manifest carries itself (snapshot.json, packed-refs). */
  key?: string;
}
/** The stored files of a manifest in the bucket (gzip-compressed JSON, docs/STORE_FORMAT.md). */
function storedManifest(prefix: string, snapshot: string): { files: Array<ManifestFile & { key: string }>; name: string } {
  const m = JSON.parse(gunzipSync(s3.objectBytes(`${prefix}/${manifestKey('acme/widgets', snapshot)}`)!).toString('utf8')) as { files: ManifestFile[]; name: string };
  return { ...m, files: m.files.filter((f): f is ManifestFile & { key: string } => f.key !== undefined) };
}
const manifest = (snapshot: string) => storedManifest(PREFIX, snapshot);
/** The pack indexes a manifest derives from their packs instead of storing them (docs/STORE_FORMAT.md "Pack indexes"). */
function derivedFiles(prefix: string, snapshot: string): Array<{ path: string; sha256: string; derivedFrom: string }> {
  const m = JSON.parse(gunzipSync(s3.objectBytes(`${prefix}/${manifestKey('acme/widgets', snapshot)}`)!).toString('utf8')) as { files: Array<{ path: string; sha256: string; derivedFrom?: string }> };
  return m.files.filter((f): f is { path: string; sha256: string; derivedFrom: string } => f.derivedFrom !== undefined);
}
/** The pack files (.pack, .idx, .rev) of a repository, by name, as sha256. */
const packFiles = (repo: string) => contentFingerprint(join(repo, 'objects', 'pack'));

/** Everything a run printed, and every log file under the root, must be free of the secrets. */
function expectNoSecrets(run: CliResult, root: string): void {
  for (const secret of [TOKEN, AWS_SECRET]) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
    const logs = join(root, 'logs');
    for (const name of existsSync(logs) ? readdirSync(logs) : []) expect(readFileSync(join(logs, name), 'utf8')).not.toContain(secret);
  }
}

beforeAll(async () => {
  base = makeTempDir('gpb-cli-store-');
  upstream = createUpstream({ owner: 'acme', name: 'widgets' });
  s3 = await new S3StandIn().start();
});
afterAll(async () => {
  await s3.close();
  upstream.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backup-manager with a store (s3rver)', () => {
  let first: string;

  it('sync pushes the snapshot it took: every file but the two the manifest carries and the pack indexes is an object, the manifest names them all', async () => {
    const { file, root } = config('first');
    // Watch the process list while it runs: neither secret may appear in any argv.
    const { child, done } = startCli(['sync', '--config', file, '--json'], env());
    const argvs: string[] = [];
    const poll = setInterval(() => {
      for (const pid of [child.pid!, ...descendants(child.pid!)]) argvs.push(processCommandLine(pid).join(' '));
    }, 20);
    const run = await done;
    clearInterval(poll);
    expect(run.code, run.stderr).toBe(0);
    const synced = value<SyncRepoResult>(run);
    first = synced.snapshot!.name;
    expect(synced.pushed).toMatchObject({ store: `s3://backups/${PREFIX}`, snapshots: [first] });
    expect(synced.pushed!.uploadedObjects).toBeGreaterThanOrEqual(3);

    const keys = bucketKeys();
    expect(keys).toContain('store-format-v2.json');
    expect(keys).toContain(manifestKey('acme/widgets', first));
    const m = manifest(first);
    expect(m.files.some((f) => /^objects\/pack\/pack-[0-9a-f]+\.pack$/.test(f.path))).toBe(true);
    for (const f of m.files) expect(keys, f.path).toContain(f.key);
    expect(keys.filter((k) => k.startsWith('objects/'))).toHaveLength(new Set(m.files.map((f) => f.key)).size);
    // Every pack's index is derived from the pack: recorded in the manifest, never sent to the store.
    const derived = derivedFiles(PREFIX, first);
    expect(derived.map((f) => f.derivedFrom).sort()).toEqual(m.files.filter((f) => f.path.endsWith('.pack')).map((f) => f.path).sort());
    const puts = s3.requests.filter((r) => r.method === 'PUT').map((r) => r.path);
    for (const f of derived) {
      expect(keys).not.toContain(objectKey(f.sha256));
      expect(puts).not.toContain(`/backups/${PREFIX}/${objectKey(f.sha256)}`);
    }
    expect(puts.some((p) => p.startsWith(`/backups/${PREFIX}/objects/`))).toBe(true);
    // The push held a shared lease while it uploaded (prune waits for it) and released it when the run ended.
    expect(s3.requests.some((r) => r.method === 'PUT' && r.path.startsWith(`/backups/${PREFIX}/locks/shared/`))).toBe(true);
    expect(keys.filter((k) => k.startsWith('locks/shared/'))).toEqual([]);

    expect(argvs.length).toBeGreaterThan(0);
    expect(argvs.join('\n')).not.toContain(AWS_SECRET);
    expect(argvs.join('\n')).not.toContain(TOKEN);
    expectNoSecrets(run, root);
  });

  it('store list shows it; store push then has nothing to upload and writes nothing', async () => {
    const { file } = config('first');
    const list = await runCli(['store', 'list', '--config', file, '--json'], env());
    expect(list.code, list.stderr).toBe(0);
    expect(value<StoreListRepoResult>(list).snapshots.map((s) => s.name)).toEqual([first]);
    const text = await runCli(['store', 'list', '--config', file], env());
    expect(text.stdout).toContain("✓ acme/widgets: 1 snapshot(s) in the store");

    const writes = s3.writes.length;
    const push = await runCli(['store', 'push', '--config', file, '--json'], env());
    expect(push.code, push.stderr).toBe(0);
    expect(value<StorePushRepoResult>(push)).toMatchObject({ snapshots: [], uploadedObjects: 0 });
    expect(s3.writes.length).toBe(writes);
  });

  it('restore --from-store --dry-run reads the manifest only, writes nothing, and says what it would download', async () => {
    const { file, root } = config('dry');
    const to = join(base, 'dry-restored.git');
    const remote = join(base, 'dry-remote.git');
    git(base, 'init', '--bare', '--quiet', remote);
    for (const where of [['--to', to], ['--push', remote], []]) {
      const mark = s3.requests.length;
      const run = await runCli(['restore', 'latest', '--from-store', '--dry-run', '--config', file, '--repo', 'acme/widgets', '--json', ...where], env());
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const result = value<RestoreRepoResult>(run);
      expect(result).toMatchObject({ snapshot: { repository: 'acme/widgets', name: first, path: `s3://backups/${PREFIX}` }, dryRun: true, mode: where[0] === '--push' ? 'push' : where[0] ? 'to-dir' : 'in-place', fromStore: `s3://backups/${PREFIX}` });
      expect(result.refsRestored).toBeGreaterThan(0);
      expect(result.download!.objects).toBe(manifest(first).files.length);
      // What reached the store: listings and the one manifest, never an object.
      const gets = s3.requests.slice(mark).filter((r) => r.method === 'GET' && r.path.startsWith(`/backups/${PREFIX}/`));
      expect(gets.map((r) => r.path)).toEqual([`/backups/${PREFIX}/${manifestKey('acme/widgets', first)}`]);
    }
    const human = await runCli(['restore', 'latest', '--from-store', '--dry-run', '--config', file, '--repo', 'acme/widgets', '--to', to], env());
    expect(human.stdout).toMatch(/would restore snapshot-\S+ from s3:\/\/backups\/\S+ to \S+ \(\d+ refs; would download \d+ object\(s\), /);
    expect(existsSync(to)).toBe(false);
    expect(refsOf(remote)).toEqual({});
    expect(existsSync(join(root, 'immutable', 'acme', 'widgets.git'))).toBe(false);
    expect(existsSync(join(root, 'immutable', 'acme')) ? readdirSync(join(root, 'immutable', 'acme')) : []).toEqual([]);
  });

  it('restore --from-store onto an empty root: --to DIR, --push to a new remote, and in place', async () => {
    const { file, root } = config('empty');
    const to = join(base, 'restored.git');
    const run = await runCli(['restore', 'latest', '--from-store', '--config', file, '--repo', 'acme/widgets', '--to', to, '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(value<RestoreRepoResult>(run)).toMatchObject({ snapshot: { repository: 'acme/widgets', name: first, path: `s3://backups/${PREFIX}` }, mode: 'to-dir', fromStore: `s3://backups/${PREFIX}` });
    expect(refsOf(to)).toEqual(refsOf(upstream.bare));
    git(to, 'fsck', '--full');
    // The indexes git index-pack rebuilt are the very files the backed-up snapshot holds.
    const original = await packFiles(join(config('first').root, 'snapshots', 'acme', 'widgets', first));
    expect(Object.keys(original).some((name) => name.endsWith('.idx'))).toBe(true);
    expect(await packFiles(to)).toEqual(original);

    const remote = join(base, 'new-remote.git');
    git(base, 'init', '--bare', '--quiet', remote);
    const pushed = await runCli(['restore', first, '--from-store', '--config', file, '--repo', 'acme/widgets', '--push', remote], env());
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(refsOf(remote)).toEqual(refsOf(upstream.bare));

    const inPlace = await runCli(['restore', 'latest', '--from-store', '--config', file, '--repo', 'acme/widgets', '--json'], env());
    expect(inPlace.code, inPlace.stderr).toBe(0);
    expect(value<RestoreRepoResult>(inPlace).mode).toBe('in-place');
    expect(refsOf(join(root, 'immutable', 'acme', 'widgets.git'))).toEqual(refsOf(upstream.bare));
    git(join(root, 'immutable', 'acme', 'widgets.git'), 'fsck', '--full');
    expect(await packFiles(join(root, 'immutable', 'acme', 'widgets.git'))).toEqual(original);
    // Nothing of the pull is left behind.
    expect(readdirSync(join(root, 'immutable', 'acme')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  });

  it('a fresh root hydrates from the newest manifest, then the fetch brings only the new pack and the push uploads only that', async () => {
    const { file, root } = config('hydrate');
    await sleep(1100); // snapshot names have one-second resolution
    upstream.commit('after the first backup', 'new.txt');
    upstream.push('main');
    const before = new Set(bucketKeys());
    const requestsBefore = s3.requests.length;

    const run = await runCli(['sync', '--config', file, '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const synced = value<SyncRepoResult>(run);
    expect(synced.hydrated).toMatchObject({ snapshot: first });
    expect(synced.changes.updated).toEqual(['refs/heads/main']);
    expect(synced.changes.added).toEqual([]);
    const second = synced.snapshot!.name;
    expect(synced.pushed!.snapshots).toEqual([second]);

    // The hydrated snapshot is local now, byte for byte the one pushed (rebuilt indexes included), and the mirror
    // was fetched into, not cloned: old packs plus one.
    expect(readdirSync(join(root, 'snapshots', 'acme', 'widgets')).sort()).toEqual([first, second]);
    expect(await contentFingerprint(join(root, 'snapshots', 'acme', 'widgets', first))).toEqual(await contentFingerprint(join(config('first').root, 'snapshots', 'acme', 'widgets', first)));
    git(join(root, 'immutable', 'acme', 'widgets.git'), 'fsck', '--full');
    const packsOf = (m: { files: ManifestFile[] }) => m.files.filter((f) => f.path.endsWith('.pack'));
    const oldPacks = packsOf(manifest(first));
    const newPacks = packsOf(manifest(second));
    expect(newPacks).toHaveLength(oldPacks.length + 1);

    // What the push added to the bucket: the new pack (its index is derived), the small files that changed, the manifest.
    const added = bucketKeys().filter((k) => !before.has(k));
    const addedPaths = manifest(second).files.filter((f) => added.includes(f.key)).map((f) => f.path);
    expect(addedPaths.filter((p) => p.endsWith('.pack'))).toHaveLength(1);
    expect(addedPaths.every((p) => /^(objects\/pack\/pack-[0-9a-f]+\.pack|config|HEAD)$/.test(p)), addedPaths.join(', ')).toBe(true);
    expect(derivedFiles(PREFIX, second).map((f) => f.path)).toEqual(manifest(second).files.filter((f) => f.path.endsWith('.pack')).map((f) => f.path.replace(/\.pack$/, '.idx')));
    expect(added).toContain(manifestKey('acme/widgets', second));
    // No pack the store already had was uploaded again.
    const putKeys = s3.requests.slice(requestsBefore).filter((r) => r.method === 'PUT').map((r) => r.path.replace(`/backups/${PREFIX}/`, ''));
    for (const p of oldPacks) expect(putKeys).not.toContain(p.key);
    expectNoSecrets(run, root);
  });

  it('on a day with nothing new, a sync costs the store at most 3 requests', async () => {
    const { file } = config('hydrate');
    const before = s3.requests.length;
    const run = await runCli(['sync', '--config', file, '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(value<SyncRepoResult>(run).snapshot).toBeNull();
    expect(s3.requests.length - before).toBeLessThanOrEqual(3);
  });

  it('init on a fresh root hydrates from the store too, then fetches: the mirror is where a clone would be', async () => {
    const { file, root } = config('init-hydrate');
    const newest = value<StoreListRepoResult>(await runCli(['store', 'list', '--config', file, '--json'], env())).snapshots.at(-1)!.name;
    await sleep(1100);
    upstream.commit('after the last backup', 'init-new.txt');
    upstream.push('main');
    const mark = s3.requests.length;
    const run = await runCli(['init', '--config', file, '--json'], env());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const init = value<InitRepoResult>(run);
    expect(init).toMatchObject({ created: true, hydrated: { store: `s3://backups/${PREFIX}`, snapshot: newest } });
    // The objects came from the store (and only the new commit from upstream).
    expect(s3.requests.slice(mark).filter((r) => r.method === 'GET' && r.path.includes(`/${PREFIX}/objects/`)).length).toBeGreaterThan(0);
    const mirror = join(root, 'immutable', 'acme', 'widgets.git');
    expect(refsOf(mirror)).toEqual(refsOf(upstream.bare));
    git(mirror, 'fsck', '--full');
    expect(readdirSync(join(root, 'snapshots', 'acme', 'widgets'))).toEqual([newest]);
    const again = await runCli(['init', '--config', file, '--json'], env());
    expect(value<InitRepoResult>(again)).toMatchObject({ created: false, hydrated: null });
  });

  it('no token and no AWS secret anywhere in the bucket', () => {
    for (const { path, bytes } of s3.storedFiles()) {
      expect(bytes.includes(TOKEN), path).toBe(false);
      expect(bytes.includes(AWS_SECRET), path).toBe(false);
    }
  });

  it('a push that fails fails the repository\'s run, and the local snapshot stays', async () => {
    const { file, root } = config('broken', { url: 's3://no-such-bucket/gpb' });
    const run = await runCli(['sync', '--config', file], env());
    expect(run.code, run.stdout).toBe(10); // the store's "no such bucket" keeps its own exit code (not found)
    expect(run.stdout).toMatch(/✗ acme\/widgets: push to the store s3:\/\/no-such-bucket\/gpb failed: .*The local snapshots stay/);
    expect(readdirSync(join(root, 'snapshots', 'acme', 'widgets')).filter((n) => n.startsWith('snapshot-'))).toHaveLength(1);
    expectNoSecrets(run, root);
  });

  it('an encrypted store: the backup needs only the public key; a cold start without the identity clones, with it hydrates', async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const identityFile = join(base, 'age-identity.txt');
    writeFileSync(identityFile, `# created by age-keygen\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
    const encrypted = { url: 's3://backups/encrypted', encryption: { recipients: [recipient] } };
    const pushed = await runCli(['sync', '--config', config('enc-first', encrypted).file, '--json'], env());
    expect(pushed.code, pushed.stderr).toBe(0);
    const name = value<SyncRepoResult>(pushed).pushed!.snapshots[0]!;
    // Nothing in that prefix is readable JSON: the manifest is age ciphertext.
    const stored = s3.objectBytes(`encrypted/${manifestKey('acme/widgets', name)}`)!;
    expect(stored.subarray(0, 21).toString('latin1')).toBe('age-encryption.org/v1');

    const cold = await runCli(['sync', '--config', config('enc-cold', encrypted).file, '--json', '-v'], env());
    expect(cold.code, cold.stderr).toBe(0);
    expect(value<SyncRepoResult>(cold).hydrated).toBeNull();
    expect(cold.stderr).toContain('the store is encrypted and BACKUP_AGE_IDENTITY_FILE is not set: cloning instead of hydrating');

    const warm = await runCli(['sync', '--config', config('enc-hydrate', encrypted).file, '--json'], env({ BACKUP_AGE_IDENTITY_FILE: identityFile }));
    expect(warm.code, warm.stderr).toBe(0);
    expect(value<SyncRepoResult>(warm).hydrated).toMatchObject({ store: 's3://backups/encrypted' });
    expect(warm.stdout + warm.stderr).not.toContain(identity);

    // The backup side, without the identity, verifies and prunes from the plaintext object indexes.
    const writerConfig = config('enc-writer', encrypted).file;
    const verified = await runCli(['store', 'verify', '--config', writerConfig, '--json'], env());
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const listed = value<StoreListRepoResult>(await runCli(['store', 'list', '--config', writerConfig, '--json'], env())).snapshots.length;
    expect(listed).toBeGreaterThan(0);
    expect(value<StoreVerifyRepoResult>(verified)).toMatchObject({ ok: true, readFrom: 'object indexes', snapshots: listed });
    const readBack = await runCli(['store', 'verify', '--read-data', '--config', writerConfig], env());
    expect(readBack.code).toBe(12);
    expect(readBack.stdout + readBack.stderr).toContain('needs BACKUP_AGE_IDENTITY_FILE');
    const pruned = await runCli(['store', 'prune', '--dry-run', '--config', writerConfig, '--json'], env());
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(value<StorePruneRunResult>(pruned)).toMatchObject({ readFrom: 'object indexes', selected: ['acme/widgets'], problems: [] });
    const withIdentity = await runCli(['store', 'verify', '--config', writerConfig, '--json'], env({ BACKUP_AGE_IDENTITY_FILE: identityFile }));
    expect(value<StoreVerifyRepoResult>(withIdentity)).toMatchObject({ ok: true, readFrom: 'manifests' });
  });

  describe('store verify and store prune (a prefix of their own)', () => {
    const cfg = () => config('maintained', { url: 's3://backups/maintained' });
    let snapshot: string;
    const objectOf = (path: RegExp) => {
      return storedManifest('maintained', snapshot).files.find((f) => path.test(f.path))!;
    };

    it('a sound store verifies, by size and with --read-data (sha256, pack indexes rebuilt by git index-pack)', async () => {
      const sync = await runCli(['sync', '--config', cfg().file, '--json'], env());
      expect(sync.code, sync.stderr).toBe(0);
      snapshot = value<SyncRepoResult>(sync).pushed!.snapshots[0]!;
      const quick = await runCli(['store', 'verify', '--config', cfg().file, '--json'], env());
      expect(quick.code, quick.stdout + quick.stderr).toBe(0);
      expect(value<StoreVerifyRepoResult>(quick)).toMatchObject({ ok: true, snapshots: 1, objectsRead: 0 });
      const full = await runCli(['store', 'verify', '--read-data', '--config', cfg().file, '--json'], env());
      expect(full.code, full.stdout).toBe(0);
      const v = value<StoreVerifyRepoResult>(full);
      expect(v.objectsRead).toBe(v.objects);
      expect(v.packsChecked).toBeGreaterThan(0);
      const some = await runCli(['store', 'verify', '--read-data-subset', '10%', '--config', cfg().file, '--json'], env());
      expect(some.code).toBe(0);
      expect(value<StoreVerifyRepoResult>(some).objectsRead).toBeLessThan(v.objects);
      const bad = await runCli(['store', 'verify', '--read-data-subset', '0%', '--config', cfg().file], env());
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--read-data-subset must be a percentage');
    });

    it('a tampered object passes the size check and fails --read-data; a missing one fails both', async () => {
      const pack = objectOf(/\.pack$/);
      const file = join(s3.directory, 'backups', 'maintained', ...pack.key.split('/').slice(0, -1), `${pack.key.split('/').at(-1)}._S3rver_object`);
      const original = readFileSync(file);
      const flipped = Buffer.from(original);
      flipped[flipped.length - 30] = flipped[flipped.length - 30]! ^ 0xff;
      writeFileSync(file, flipped);
      try {
        expect((await runCli(['store', 'verify', '--config', cfg().file], env())).code).toBe(0);
        const read = await runCli(['store', 'verify', '--read-data', '--config', cfg().file], env());
        expect(read.code).toBe(1);
        expect(read.stdout).toMatch(/✗ acme\/widgets: .*objects\/pack\/pack-[0-9a-f]+\.pack/);
        // A restore refuses it with the same words, and leaves nothing where it was asked to write.
        const to = join(base, 'tampered-restore.git');
        const restore = await runCli(['restore', 'latest', '--from-store', '--config', cfg().file, '--repo', 'acme/widgets', '--to', to], env());
        expect(restore.code, restore.stdout + restore.stderr).toBe(1);
        expect(restore.stdout).toMatch(/✗ acme\/widgets: .*objects\/pack\/pack-[0-9a-f]+\.pack \(objects\/[0-9a-f]{2}\/[0-9a-f]{64}\).*does not match its recorded checksum/);
        expect(existsSync(to)).toBe(false);
      } finally {
        writeFileSync(file, original);
      }
      const head = objectOf(/^HEAD$/);
      // Deleted through the S3 API, as a careless hand or a stolen credential would.
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: 'test-only' });
      try {
        await s3.store('maintained').delete(head.key);
      } finally {
        delete process.env.AWS_ACCESS_KEY_ID;
        delete process.env.AWS_SECRET_ACCESS_KEY;
      }
      const missing = await runCli(['store', 'verify', '--config', cfg().file, '--json'], env());
      expect(missing.code).toBe(1);
      const outcome = json<StoreVerifyRepoResult>(missing).outcomes[0]!;
      expect(!outcome.ok && outcome.error).toContain('missing object');
    });

    it('store prune --dry-run decides and deletes nothing; store prune takes the store lock with a conditional put', async () => {
      const before = bucketKeys().length;
      const dry = await runCli(['store', 'prune', '--dry-run', '--config', cfg().file, '--json'], env());
      expect(dry.code, dry.stdout + dry.stderr).toBe(0);
      const planned = value<StorePruneRunResult>(dry);
      expect(planned).toMatchObject({ repo: 's3://backups/maintained', dryRun: true, readFrom: 'manifests', selected: ['acme/widgets'] });
      // --repo narrows the policy to the repositories named: one the store does not hold is simply not there.
      const other = await runCli(['store', 'prune', '--dry-run', '--config', cfg().file, '--repo', 'acme/other', '--json'], env());
      expect(other.code, other.stdout + other.stderr).toBe(0);
      expect(value<StorePruneRunResult>(other)).toMatchObject({ selected: ['acme/other'], repositories: [] });
      expect(planned.repositories.find((r) => r.repository === 'acme/widgets')!.decisions.every((d) => d.keep)).toBe(true);

      const requests = s3.requests.length;
      const real = await runCli(['store', 'prune', '--config', cfg().file, '--json'], env());
      expect(real.code, real.stdout + real.stderr).toBe(0);
      expect(value<StorePruneRunResult>(real).objects.deleted).toBe(0); // nothing is older than the grace period
      const lockPuts = s3.requests.slice(requests).filter((r) => r.method === 'PUT' && r.path.startsWith('/backups/maintained/locks/exclusive/'));
      expect(lockPuts.length).toBeGreaterThan(0);
      expect(lockPuts.every((r) => r.headers['if-none-match'] === '*')).toBe(true);
      expect(bucketKeys().filter((k) => !k.startsWith('locks/')).length).toBeLessThanOrEqual(before);
    });

    it('store prune --shard with no repositories configured is a usage error, and touches nothing', async () => {
      const file = join(base, 'unlisted.config.json');
      writeFileSync(file, JSON.stringify({ root: join(base, 'unlisted-root'), store: { url: 's3://backups/maintained', endpoint: s3.url, region: 'us-east-1', forcePathStyle: true } }));
      const keys = bucketKeys();
      const requests = s3.requests.length;
      const sharded = await runCli(['store', 'prune', '--shard', '1/2', '--config', file], env());
      expect(sharded.code, sharded.stdout + sharded.stderr).toBe(2);
      expect(sharded.stderr).toContain('store prune --shard 1/2: no repositories configured, and a shard of nothing is a mistake, not the whole store');
      expect(sharded.stderr).toContain('--repo');
      expect(s3.requests.length).toBe(requests);
      expect(bucketKeys()).toEqual(keys);
      // Without --shard the same config prunes the whole store, as documented.
      const whole = await runCli(['store', 'prune', '--dry-run', '--config', file, '--json'], env());
      expect(whole.code, whole.stdout + whole.stderr).toBe(0);
      expect(value<StorePruneRunResult>(whole)).toMatchObject({ selected: null });
    });
  });

  it('restore --from-store without a store configured, or with --from-archive, is a usage error', async () => {
    const plain = join(base, 'plain.config.json');
    writeFileSync(plain, JSON.stringify({ root: join(base, 'plain-root'), repositories: [upstream.bare] }));
    const none = await runCli(['restore', '--from-store', '--config', plain, '--to', join(base, 'x')], env());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no store is configured');
    const both = await runCli(['restore', '--from-store', '--from-archive', 'a.tar.gz', '--config', config('first').file, '--to', join(base, 'y')], env());
    expect(both.code).toBe(2);
  });
});
