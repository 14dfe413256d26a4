// actions/backup on a GitHub-hosted runner keeps the live GitHub metadata warm in the Actions cache (docs/GITHUB_ACTIONS.md
// "GitHub-hosted runners"): the metadata repository, its assets and the capture state go into the entry, so the next
// run on a fresh runner continues the same tree with the same ETags and a quiet day is all 304s. Real @actions/cache
// against the cache service stand-in; git over HTTP and the API on one GitHub stand-in, as github.com serves both.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheStandIn } from './helpers/cache-standin.ts';
import { createUpstream, git, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';
import { startGitHubWithRecords, type GitHubRecords } from './helpers/github-records.ts';
import { runAction, type ActionRun, type GitHubStandIn } from './helpers/github-standin.ts';

const TOKEN = 'ghp_FAKEmetadataCACHEtoken0123456789abcd';

let base: string;
let upstream: Upstream;
let service: CacheStandIn;
let standIn: GitHubStandIn;
let records: GitHubRecords;
let runId = 9100;

beforeAll(async () => {
  base = makeTempDir('gpb-hosted-metadata-');
  upstream = createUpstream({ owner: 'acme', name: 'widgets' });
  mkdirSync(join(base, 'workspace')); // the cache archives paths relative to GITHUB_WORKSPACE
  service = await new CacheStandIn().start();
  ({ standIn, records } = await startGitHubWithRecords(join(upstream.tmp, 'upstream')));
  const repo = records.repo('acme', 'widgets');
  repo.addLabel('bug');
  repo.addIssue({ title: 'It breaks', labels: ['bug'] });
  repo.comment(1, 'Confirmed.');
  repo.addRelease('v1.0', [{ name: 'notes.txt', bytes: Buffer.from('release notes\n') }]);
});
afterAll(async () => {
  await records.close();
  await standIn.close();
  await service.close();
  upstream.cleanup();
  removeTree(base);
});

function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  execFileSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
}

const root = () => join(base, 'runner', 'backup');

function hosted(): Promise<ActionRun> {
  runId++;
  return runAction('actions/backup', {
    inputs: { action: 'sync', repositories: `${standIn.url}/acme/widgets.git`, 'backup-root': root(), ephemeral: 'true', 'cache-key': 'gpb-meta', 'upload-logs': 'false' },
    github: { token: TOKEN },
    env: {
      ...service.env(),
      RUNNER_ENVIRONMENT: 'github-hosted',
      GITHUB_API_URL: standIn.url,
      GITHUB_REPOSITORY: 'acme/backups',
      GITHUB_RUN_ID: String(runId),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKSPACE: join(base, 'workspace'),
      GIT_CONFIG_NOSYSTEM: '1',
    },
  });
}

function archiveListing(blob: Buffer): string[] {
  const file = join(base, `entry-${Date.now()}.tar`);
  writeFileSync(file, blob);
  return execFileSync('tar', ['-P', '-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('actions/backup keeps the live GitHub metadata in the Actions cache', () => {
  it('saves the metadata repository, its assets and the capture state; the next runner sends only conditional requests', async () => {
    const first = await hosted();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const metadataRepo = join(root(), 'metadata/acme/widgets.git');
    const commit = git(metadataRepo, 'rev-parse', 'main').trim();
    const assets = execFileSync('ls', [join(root(), 'metadata/acme/widgets.assets')], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(assets).toHaveLength(1);

    const listing = archiveListing(service.entries.at(-1)!.blob!).map((l) => l.replace(/^(\.\.\/)+/, '/'));
    const has = (suffix: string) => listing.some((l) => l.endsWith(suffix));
    expect(has('backup/metadata/acme/widgets.git/HEAD')).toBe(true);
    expect(has(`backup/metadata/acme/widgets.assets/${assets[0]}`)).toBe(true);
    expect(has('backup/state/metadata/acme/widgets.json')).toBe(true);

    removeTree(join(base, 'runner')); // a new runner: nothing on disk
    const answered = records.answers.length;
    const downloads = records.downloads.length;
    const requested = standIn.requests.length;
    const second = await hosted();
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.outputs['cache-restored-key']).toMatch(/^gpb-meta-\d+-1$/);
    // The live metadata came from the cache, not laid back from the snapshot, and continues the same history.
    expect(second.stdout).toMatch(/acme\/widgets: GitHub metadata captured/); // (the engine's log is in the step's)
    expect(second.stdout).not.toMatch(/the live GitHub metadata was missing/);
    expect(git(metadataRepo, 'rev-parse', 'main').trim()).toBe(commit);
    // Every record request (the identity lookup's included) carried the ETag the first runner kept and was answered
    // 304; no asset was downloaded.
    const statuses = records.answers.slice(answered).map((a) => `${a.path} ${a.status}`);
    expect(statuses.filter((s) => !s.endsWith(' 304'))).toEqual([]);
    const recordRequests = standIn.requests.slice(requested).filter((r) => r.path.startsWith('/repos/acme/widgets'));
    expect(recordRequests.length).toBeGreaterThanOrEqual(7);
    expect(recordRequests.every((r) => typeof r.headers['if-none-match'] === 'string')).toBe(true);
    expect(records.downloads.length).toBe(downloads);
  });
});
