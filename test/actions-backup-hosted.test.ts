// actions/backup on a GitHub-hosted runner, run as the runner runs it (child node, INPUT_*, GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY, RUNNER_ENVIRONMENT=github-hosted): it refuses to keep nothing without a store, and it keeps
// the root warm in a stand-in of the Actions cache service v2 on 127.0.0.1, driven by the real @actions/cache.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheStandIn } from './helpers/cache-standin.ts';
import { createUpstream, git, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';
import { runAction, type ActionRun } from './helpers/github-standin.ts';

const ACTION = 'actions/backup';
const TOKEN = 'ghp_FAKEhostedTOKENhostedTOKEN0123456789a';

let base: string;
let upstream: Upstream;
let service: CacheStandIn;
let runId = 7000;

beforeAll(async () => {
  base = makeTempDir('gpb-hosted-');
  upstream = createUpstream({ owner: 'acme', name: 'app' });
  mkdirSync(join(base, 'workspace')); // the cache archives paths relative to GITHUB_WORKSPACE
  service = await new CacheStandIn().start();
});
afterAll(async () => {
  await service.close();
  upstream.cleanup();
  removeTree(base);
});

/** Snapshot directories are read-only: make the tree writable, then remove it, as a fresh runner would not have it. */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  execFileSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
}

function hosted(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  runId++;
  return runAction(ACTION, {
    inputs: { 'upload-logs': 'false', ...inputs },
    github: { token: TOKEN },
    env: {
      RUNNER_ENVIRONMENT: 'github-hosted',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/backups',
      GITHUB_RUN_ID: String(runId),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKSPACE: join(base, 'workspace'),
      GIT_CONFIG_NOSYSTEM: '1',
      ...env,
    },
  });
}

/** The paths in a cache entry's archive (GNU tar detects zstd or gzip itself). */
function archiveListing(blob: Buffer): string[] {
  const file = join(base, `entry-${Date.now()}.tar`);
  writeFileSync(file, blob);
  return execFileSync('tar', ['-P', '-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

function archiveBytes(blob: Buffer): Buffer {
  const file = join(base, `entry-${Date.now()}.raw`);
  writeFileSync(file, blob);
  return execFileSync('sh', ['-c', 'zstd -dc "$1" 2>/dev/null || gzip -dc "$1"', 'sh', file], { maxBuffer: 256 * 1024 * 1024 });
}

describe('actions/backup on a GitHub-hosted runner', () => {
  it('fails, saying why, when no store is configured: nothing would be kept', async () => {
    const root = join(base, 'refused-root');
    const before = service.calls.length;
    const run = await hosted({ action: 'sync', repositories: upstream.bare, 'backup-root': root }, service.env());
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::this is a GitHub-hosted runner, whose disk is thrown away when the job ends, and no store is configured/);
    expect(run.stdout).toContain('"ephemeral: true"');
    expect(existsSync(root)).toBe(false);
    expect(service.calls.length).toBe(before); // nothing was restored, nothing saved
  });

  it('the same run on a self-hosted runner goes ahead without a store and without the cache (auto)', async () => {
    const root = join(base, 'self-hosted-root');
    const before = service.calls.length;
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY01';
    const run = await hosted(
      { action: 'sync', repositories: upstream.bare, 'backup-root': root },
      { ...service.env(), RUNNER_ENVIRONMENT: 'self-hosted', AWS_SECRET_ACCESS_KEY: secret },
    );
    expect(run.code, run.stdout).toBe(0);
    // The store's secret key is masked before anything is printed, and appears nowhere else.
    expect(run.stdout.split('\n')[0]).toBe(`::add-mask::${TOKEN}`);
    expect(run.stdout).toContain(`::add-mask::${secret}`);
    expect(run.stdout.split('\n').filter((l) => l.includes(secret))).toEqual([`::add-mask::${secret}`]);
    expect(run.summary + JSON.stringify(run.outputs)).not.toContain(secret);
    expect(existsSync(join(root, 'immutable', 'acme', 'app.git'))).toBe(true);
    expect(service.calls.length).toBe(before);
    expect(run.outputs['cache-restored-key']).toBe('');
  });

  it('rejects a bad ephemeral, cache or cache-key input before anything runs', async () => {
    const root = join(base, 'bad-inputs-root');
    const eph = await hosted({ action: 'sync', repositories: upstream.bare, 'backup-root': root, ephemeral: 'yes' });
    expect(eph.stdout).toContain('::error::input "ephemeral" must be true or false, got "yes"');
    const mode = await hosted({ action: 'sync', repositories: upstream.bare, 'backup-root': root, ephemeral: 'true', cache: 'always' });
    expect(mode.stdout).toContain('::error::input "cache" must be auto, true or false, got "always"');
    const key = await hosted({ action: 'sync', repositories: upstream.bare, 'backup-root': root, ephemeral: 'true', 'cache-key': 'a,b' });
    expect(key.stdout).toContain(`::error::input "cache-key" must be 1-200 letters, digits, '.', '_' or '-', got "a,b"`);
    expect(existsSync(root)).toBe(false);
  });

  it('with a store configured it runs, pushes each new snapshot, and a cold start hydrates from the store', async () => {
    const storeDir = join(base, 'store');
    const root = join(base, 'stored-runner', 'backup');
    const config = join(base, 'stored.config.yml');
    writeFileSync(config, `repositories:\n  - ${upstream.bare}\nstore:\n  url: file://${storeDir}\n`);
    const first = await hosted({ action: 'sync', config, 'backup-root': root, cache: 'false' });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const name = first.outputs.snapshot!;
    expect(existsSync(join(storeDir, 'snapshots', 'acme', 'app', `${name}.json.gz`))).toBe(true);
    expect(first.summary).toMatch(new RegExp(`- acme/app: pushed \`${name}\` \\(\\d+ objects, [\\d.]+ (B|KiB|MiB) uploaded\\) \\(store \`file://`));

    removeTree(join(base, 'stored-runner')); // the next runner has nothing, and no cache
    const second = await hosted({ action: 'sync', config, 'backup-root': root, cache: 'false' });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain(`hydrated acme/app from file://${storeDir} ${name}`);
    expect(second.summary).toContain(`- acme/app: hydrated from \`${name}\`; the store already holds every snapshot`);
    // Nothing new upstream: the hydrated snapshot is the newest, so no snapshot was needed.
    expect(second.outputs.snapshot).toBe(name);
    expect(second.outputs.updated).toBe('false');

    // The store's own commands are actions too (the operations table): verify it, then a prune that keeps all.
    const verified = await hosted({ action: 'store verify', config, 'backup-root': root, cache: 'false' });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.summary).toMatch(/\| acme\/app \| ✅ ok \| — \| 1 in the store, \d+ objects checked \|/);
    const pruned = await hosted({ action: 'store prune', config, 'backup-root': root, cache: 'false' });
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(pruned.summary).toContain('0 forgotten, 0 objects deleted');
    expect(existsSync(join(storeDir, 'snapshots', 'acme', 'app', `${name}.json.gz`))).toBe(true);
  });

  describe('warm start from the Actions cache (ephemeral: true, so no store is needed here)', () => {
    const root = () => join(base, 'runner', 'backup');
    const inputs = () => ({ action: 'sync', repositories: upstream.bare, 'backup-root': root(), ephemeral: 'true', 'cache-key': 'gpb-test' });

    it('a cold start misses, clones, and saves the root under this run\'s key', async () => {
      const run = await hosted(inputs(), service.env());
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(service.lookups.at(-1)).toMatchObject({ key: `gpb-test-${runId}-1`, restoreKeys: ['gpb-test-'], matched: null });
      expect(run.outputs['cache-restored-key']).toBe('');
      const entry = service.entries.at(-1)!;
      expect(entry).toMatchObject({ key: `gpb-test-${runId}-1`, finalized: true });
      expect(entry.sizeBytes).toBe(entry.blob!.length);
      expect(service.authorizations.every((a) => a.startsWith('Bearer '))).toBe(true);

      const listing = archiveListing(entry.blob!);
      const rel = (p: string) => listing.some((l) => l.replace(/^(\.\.\/)+/, '/').endsWith(p));
      expect(rel('backup/immutable/acme/app.git/HEAD')).toBe(true);
      expect(listing.some((l) => /backup\/snapshots\/acme\/app\/snapshot-\d{8}-\d{6}\/snapshot\.json$/.test(l))).toBe(true);
      expect(rel('backup/state/repos/acme/app.json')).toBe(true);
      expect(listing.some((l) => l.includes('/state/locks'))).toBe(false);
      expect(archiveBytes(entry.blob!).includes(TOKEN)).toBe(false);
      expect(run.summary).toContain('No Actions cache entry: cold start');
      expect(run.summary).toContain(`Saved as \`gpb-test-${runId}-1\`.`);
    });

    it('the next run on a fresh runner restores the newest entry by prefix and fetches only what is new', async () => {
      const saved = service.entries.at(-1)!.key;
      const before = readdirSync(join(root(), 'snapshots', 'acme', 'app'));
      removeTree(join(base, 'runner')); // a new runner: nothing on disk
      await new Promise((r) => setTimeout(r, 1100)); // snapshot names have one-second resolution
      const head = upstream.commit('work after the first backup');
      upstream.push('main');

      const run = await hosted(inputs(), service.env());
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(service.lookups.at(-1)).toMatchObject({ key: `gpb-test-${runId}-1`, matched: saved });
      expect(run.outputs['cache-restored-key']).toBe(saved);
      expect(run.summary).toContain(`Working root restored from the Actions cache (\`${saved}\`).`);
      // The restored snapshot is still there, read-only, beside the new one; the mirror was fetched, not cloned.
      const after = readdirSync(join(root(), 'snapshots', 'acme', 'app')).filter((n) => n.startsWith('snapshot-'));
      expect(after).toEqual(expect.arrayContaining(before.filter((n) => n.startsWith('snapshot-'))));
      expect(after).toHaveLength(2);
      expect(statSync(join(root(), 'snapshots', 'acme', 'app', before.find((n) => n.startsWith('snapshot-'))!)).mode & 0o222).toBe(0);
      expect(git(join(root(), 'immutable', 'acme', 'app.git'), 'rev-parse', 'refs/heads/main').trim()).toBe(head);
      expect(run.summary).toMatch(/\| acme\/app \| ✅ ok \| 1 \(1 updated\) \| snapshot-\d{8}-\d{6} \| 2 \|/);
      expect(service.entries.at(-1)).toMatchObject({ key: `gpb-test-${runId}-1`, finalized: true });
    });

    it('never restores over a root that already holds files', async () => {
      const run = await hosted({ ...inputs(), action: 'status' }, service.env());
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/Actions cache not restored: .*already holds files; the cache is restored only into an empty root/);
      expect(run.outputs['cache-restored-key']).toBe('');
    });

    it('read-only commands restore but do not save', async () => {
      removeTree(join(base, 'runner'));
      const entries = service.entries.length;
      const run = await hosted({ ...inputs(), action: 'verify', snapshot: 'all' }, service.env());
      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs['cache-restored-key']).toMatch(/^gpb-test-\d+-1$/);
      expect(run.summary).toMatch(/\| acme\/app \| ✅ ok \| — \| 2 verified \|/);
      expect(service.entries.length).toBe(entries);
    });

    it('without a cache service the run goes on cold and says the cache was skipped', async () => {
      removeTree(join(base, 'runner'));
      const run = await hosted(inputs());
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toContain('Actions cache not restored: the Actions cache service is not available');
      expect(existsSync(join(root(), 'immutable', 'acme', 'app.git'))).toBe(true);
    });
  });
});
