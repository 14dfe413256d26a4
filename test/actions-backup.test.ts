// The bundled backup action, run as the runner runs it (child node, INPUT_* variables, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files), against real local git repositories, uploading its logs to a stand-in artifact service.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeOutputs, failureMessage, renderSummary, type AnyRepoResult } from '../actions/backup/src/summary.ts';
import type { RunResult, StatusRepoResult } from '../src/types.ts';
import { ArtifactStandIn, readZip } from './helpers/artifact-standin.ts';
import { GitHubStandIn, paginate, runAction, type ActionRun } from './helpers/github-standin.ts';

const ACTION = 'actions/backup';
const TOKEN = 'ghp_FAKEbackupTOKENbackupTOKEN0123456789ab';
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' }).trim();
}

/** A bare upstream at <base>/<owner>/<name>.git with one commit on main, and a work clone to push more. */
function upstream(base: string, owner: string, name: string): { bare: string; work: string; commit: (msg: string) => void } {
  const bare = join(base, owner, `${name}.git`);
  mkdirSync(bare, { recursive: true });
  git(bare, 'init', '--bare', '--initial-branch=main');
  const work = join(base, 'work', owner, name);
  mkdirSync(work, { recursive: true });
  git(work, 'init', '--initial-branch=main');
  git(work, 'remote', 'add', 'origin', bare);
  const commit = (msg: string) => {
    writeFileSync(join(work, 'file.txt'), `${msg}\n`);
    git(work, 'add', 'file.txt');
    git(work, 'commit', '-q', '-m', msg);
    git(work, 'push', '-q', 'origin', 'HEAD:main');
  };
  commit('first');
  return { bare, work, commit };
}

let base: string;
let root: string;
let service: ArtifactStandIn;
let app: ReturnType<typeof upstream>;
let lib: ReturnType<typeof upstream>;
let runCount = 0;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'gpb-action-'));
  root = join(base, 'backup-root');
  app = upstream(base, 'acme', 'app');
  lib = upstream(base, 'acme', 'lib');
  service = await new ArtifactStandIn().start();
});
afterAll(async () => {
  await service.close();
});

async function backup(inputs: Record<string, string>, artifact: ArtifactStandIn = service): Promise<ActionRun> {
  runCount++;
  return runAction(ACTION, {
    inputs: { 'backup-root': root, ...inputs },
    github: { token: TOKEN },
    env: {
      ...artifact.env(),
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/backups',
      GITHUB_RUN_ID: String(9000 + runCount),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKSPACE: base,
      ...GIT_ENV,
    },
  });
}

/** Nothing the action printed, wrote or uploaded may contain the token (the runner's own mask command aside). */
function expectNoToken(run: ActionRun): void {
  const stdout = run.stdout
    .split('\n')
    .filter((l) => l !== `::add-mask::${TOKEN}`)
    .join('\n');
  expect(stdout).not.toContain(TOKEN);
  expect(run.stderr).not.toContain(TOKEN);
  expect(run.summary).not.toContain(TOKEN);
  expect(JSON.stringify(run.outputs)).not.toContain(TOKEN);
}

function lastArtifact(): Map<string, Buffer> {
  const artifact = service.artifacts.at(-1)!;
  expect(artifact.name).toBe(`backup-logs-${9000 + runCount}-1`);
  return readZip(artifact.blob!);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('actions/backup bundled, against real local repositories', () => {
  const repositories = () => `${app.bare}\n# a comment line\n${lib.bare}\n`;

  it('init mirrors both repositories, masks the token, writes the summary, uploads the log', async () => {
    const run = await backup({ action: 'init', repositories: repositories() });
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(existsSync(join(root, 'immutable', 'acme', 'app.git'))).toBe(true);
    expect(existsSync(join(root, 'immutable', 'acme', 'lib.git'))).toBe(true);
    expect(run.outputs.updated).toBe('true');
    expect(run.outputs['failed-repositories']).toBe('');
    expect(run.summary).toContain('### Backup `init`: 2 ok');
    expect(run.summary).toContain('| repository | result | refs changed | snapshot | snapshot count | disk used |');
    expect(run.summary).toMatch(/\| acme\/app \| ✅ ok \| \d+ \(new mirror\) \|/);
    expectNoToken(run);

    const zip = lastArtifact();
    const logs = [...zip.keys()];
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^backup-\d{8}\.log$/);
    const text = zip.get(logs[0]!)!.toString('utf8');
    expect(text).toContain('acme/app');
    expect(text).not.toContain(TOKEN);
  });

  it('sync takes the first snapshot, then reports changed refs, then nothing when nothing changed', async () => {
    const first = await backup({ action: 'sync', repositories: repositories() });
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs.updated).toBe('true');
    const names = first.outputs.snapshot!.split('\n');
    expect(names).toHaveLength(2);
    for (const n of names) expect(n).toMatch(/^snapshot-\d{8}-\d{6}$/);
    expect(first.summary).toMatch(/\| acme\/app \| ✅ ok \| [^|]+ \| snapshot-\d{8}-\d{6} \| 1 \| [\d.]+ (B|KiB|MiB) \|/);
    const status = JSON.parse(first.outputs['status-json']!) as RunResult<StatusRepoResult>;
    expect(status.outcomes.map((o) => o.repo)).toEqual(['acme/app', 'acme/lib']);
    expect(status.outcomes.every((o) => o.ok && o.value.snapshotCount === 1)).toBe(true);
    expectNoToken(first);

    await sleep(1100); // snapshot names have one-second resolution
    app.commit('second');
    const second = await backup({ action: 'sync', repositories: repositories() });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs.updated).toBe('true');
    expect(second.summary).toMatch(/\| acme\/app \| ✅ ok \| 1 \(1 updated\) \| snapshot-\d{8}-\d{6} \| 2 \|/);
    expect(second.summary).toMatch(/\| acme\/lib \| ✅ ok \| 0 \| none \(unchanged\) \| 1 \|/);

    const third = await backup({ action: 'sync', repositories: repositories() });
    expect(third.code).toBe(0);
    expect(third.outputs.updated).toBe('false');
    expect(third.summary).not.toMatch(/\| 1 \(1 updated\)/);
    expectNoToken(third);
  });

  it('status and verify read what is on disk without a repository list', async () => {
    const status = await backup({ action: 'status' });
    expect(status.code, status.stdout).toBe(0);
    expect(status.outputs.updated).toBe('false');
    const parsed = JSON.parse(status.outputs['status-json']!) as RunResult<StatusRepoResult>;
    const appStatus = parsed.outcomes.find((o) => o.repo === 'acme/app')!;
    expect(appStatus.ok && appStatus.value.snapshotCount).toBe(2);
    expect(status.summary).toContain('### Backup `status`: 2 ok');

    const verify = await backup({ action: 'verify', snapshot: 'all' });
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.summary).toMatch(/\| acme\/app \| ✅ ok \| — \| 2 verified \| 2 \|/);
  });

  it('restore latest in place says which snapshot and leaves a mirror at the restored state', async () => {
    const run = await backup({ action: 'restore', repositories: app.bare, snapshot: 'latest' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.summary).toMatch(/\| acme\/app \| ✅ ok \| — \| snapshot-\d{8}-\d{6} → /);
    expect(git(join(root, 'immutable', 'acme', 'app.git'), 'log', '-1', '--format=%s', 'main')).toBe('second');
  });

  it('a repository that fails fails the step, names it, and the logs are still uploaded', async () => {
    const missing = join(base, 'nowhere', 'missing.git');
    const before = service.artifacts.length;
    const run = await backup({ action: 'sync', repositories: `${app.bare}\n${missing}` });
    expect(run.code).toBe(1);
    expect(run.outputs['failed-repositories']).toBe('nowhere/missing');
    expect(run.stdout).toMatch(/::error::backup sync failed for 1 of 2 repositories: nowhere\/missing/);
    expect(run.summary).toMatch(/\| nowhere\/missing \| ❌ failed: [^|]+\|/);
    expect(run.summary).toMatch(/\| acme\/app \| ✅ ok \|/);
    expect(service.artifacts.length).toBe(before + 1);
    expect([...lastArtifact().values()].map((b) => b.toString()).join('')).toContain('nowhere/missing');
    expectNoToken(run);
  });

  it('a failed log upload warns but never hides the backup result', async () => {
    const refusing = await new ArtifactStandIn({ failCreateWith: 403 }).start();
    try {
      const run = await backup({ action: 'sync', repositories: app.bare }, refusing);
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/::warning::could not upload the logs as artifact backup-logs-\d+-1: .*403/);
      expect(run.outputs['failed-repositories']).toBe('');
    } finally {
      await refusing.close();
    }
  });

  it('upload-logs: false uploads nothing', async () => {
    const before = service.artifacts.length;
    const run = await backup({ action: 'status', 'upload-logs': 'false' });
    expect(run.code).toBe(0);
    expect(service.artifacts.length).toBe(before);
  });

  it('a config naming a whole organization lists it through the API (all pages) and backs up what it found', async () => {
    const api = await new GitHubStandIn().start();
    try {
      const repos = [
        ...Array.from({ length: 101 }, (_, i) => ({ name: `old-${i}`, archived: true })),
        { name: 'app', archived: false },
        { name: 'lib', archived: false },
      ].map((r) => ({ ...r, owner: { login: 'acme' }, private: true, fork: false, clone_url: `file://${join(base, 'acme', `${r.name}.git`)}` }));
      api.on('GET', '/orgs/acme/repos', (req) => paginate(api, req, repos));
      const config = join(base, 'org.config.yml');
      writeFileSync(config, 'repositories:\n  - owner: acme\n    type: org\n');
      const orgRoot = join(base, 'org-root');
      const run = await runAction(ACTION, {
        inputs: { action: 'init', config, 'backup-root': orgRoot, 'upload-logs': 'false' },
        github: { token: TOKEN },
        env: { GITHUB_API_URL: api.url, ...GIT_ENV },
      });
      expect(run.code, run.stdout).toBe(0);
      expect(api.calls).toEqual(['GET /orgs/acme/repos?type=all&per_page=100', 'GET /orgs/acme/repos?type=all&per_page=100&page=2']);
      expect(api.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
      expect(readdirSync(join(orgRoot, 'immutable', 'acme')).sort()).toEqual(['app.git', 'lib.git']);
      expect(run.summary).toContain('### Backup `init`: 2 ok');
      expectNoToken(run);
    } finally {
      await api.close();
    }
  });

  it('verify fails the step and names the repository when a snapshot is damaged', async () => {
    const snapshots = join(root, 'snapshots', 'acme', 'lib');
    const newest = readdirSync(snapshots).filter((n) => n.startsWith('snapshot-')).sort().at(-1)!;
    const config = join(snapshots, newest, 'config');
    chmodSync(config, 0o644);
    appendFileSync(config, '# tampered\n');
    try {
      const run = await backup({ action: 'verify', repositories: lib.bare });
      expect(run.code).not.toBe(0);
      expect(run.stdout).toMatch(/::error::.*acme\/lib.*config: checksum mismatch/);
      expect(run.outputs['failed-repositories']).toBe('acme/lib');
    } finally {
      // Later tests share this root: undo the damage.
      writeFileSync(config, readFileSync(config, 'utf8').replace('# tampered\n', ''));
    }
    expect((await backup({ action: 'verify', repositories: lib.bare })).code).toBe(0);
  });

  it('bad inputs fail the step with a clear message before anything runs', async () => {
    const fresh = join(base, 'untouched-root');
    const bad = await runAction(ACTION, { inputs: { action: 'explode', 'backup-root': fresh }, github: { token: TOKEN } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('::error::input "action" must be one of init, sync, snapshot, status, verify, prune, restore, store push, store list, store verify, store prune; got "explode"');
    const days = await runAction(ACTION, { inputs: { action: 'prune', 'retention-days': '-3', 'backup-root': fresh }, github: { token: TOKEN } });
    expect(days.stdout).toContain('::error::input "retention-days" must be a positive whole number, got "-3"');
    expect(existsSync(fresh) ? readdirSync(fresh) : []).toEqual([]);
  });
});

describe('summary and outputs (pure)', () => {
  const result: RunResult<AnyRepoResult> = {
    command: 'sync',
    startedAt: '2025-01-01T02:00:00.000Z',
    finishedAt: '2025-01-01T02:00:05.000Z',
    outcomes: [
      {
        repo: 'acme/app',
        ok: true,
        value: {
          repo: 'acme/app',
          changes: { added: ['refs/heads/x'], updated: [], forceUpdated: ['refs/heads/main'], deleted: ['refs/tags/t'] },
          changed: true,
          snapshot: { repository: 'acme/app', name: 'snapshot-20250101-020001', path: '/x', createdAt: '2025-01-01T02:00:01.000Z', head: null, refCount: 3, sizeBytes: 10 },
          pruned: ['snapshot-20241101-020000'],
          snapshotCount: 30,
        },
      },
      { repo: 'acme/bad', ok: false, error: 'fetch failed: | pipe\nsecond line', exitCode: 1 },
    ],
    failed: ['acme/bad'],
    exitCode: 3,
  };

  it('renders one escaped row per repository', () => {
    const md = renderSummary(result);
    expect(md).toContain('### Backup `sync`: 1 failed, 1 ok');
    expect(md).toContain('| acme/app | ✅ ok | 3 (1 added, 1 force-updated, 1 deleted) | snapshot-20250101-020001; pruned 1 | 30 | — |');
    expect(md).toContain('| acme/bad | ❌ failed: fetch failed: \\| pipe second line | — | — | — | — |');
  });

  it('a repository with nothing to back up says it was skipped, and why', () => {
    const wiki: RunResult<AnyRepoResult> = {
      ...result,
      outcomes: [
        {
          repo: 'acme/app.wiki',
          ok: true,
          value: { repo: 'acme/app.wiki', changes: { added: [], updated: [], forceUpdated: [], deleted: [] }, changed: false, snapshot: null, pruned: [], snapshotCount: 2, skipped: 'the GitHub record of acme/app says its wiki is switched off' },
        },
      ],
      failed: [],
      exitCode: 0,
    };
    expect(renderSummary(wiki)).toContain('| acme/app.wiki | ⏭️ skipped: the GitHub record of acme/app says its wiki is switched off | 0 | none (unchanged) | 2 | — |');
  });

  it('computes outputs and the failure message', () => {
    expect(computeOutputs(result)).toEqual({ updated: 'true', snapshot: '', 'failed-repositories': 'acme/bad', 'status-json': '' });
    expect(failureMessage(result)).toBe('backup sync failed for 1 of 2 repositories: acme/bad\n  acme/bad: fetch failed: | pipe');
  });
});
