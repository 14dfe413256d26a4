// The bundled report-failure action, run as the runner runs it, against a stand-in GitHub API on 127.0.0.1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failureBody, findMatchingIssue, logExcerpt, workflowMarker } from '../src/github/failure-report.ts';
import { GitHubStandIn, IssuesModel, rateLimited, runAction } from './helpers/github-standin.ts';

const ACTION = 'actions/report-failure';
const TOKEN = 'ghs_FAKEreportTOKENreportTOKEN0123456789';
const WORKFLOW = 'GitHub private daily backup';
const ISSUES = '/repos/acme/backups/issues';
const LIST = `GET ${ISSUES}?state=open&labels=backup-failure&per_page=100`;

let api: GitHubStandIn;
let model: IssuesModel;

beforeEach(async () => {
  api = await new GitHubStandIn().start();
  model = new IssuesModel(api, 'acme', 'backups').install();
});
afterEach(async () => {
  await api.close();
});

function report(inputs: Record<string, string>) {
  return runAction(ACTION, {
    inputs,
    github: { token: TOKEN, workflow: WORKFLOW, repository: 'acme/backups' },
    env: {
      GITHUB_API_URL: api.url,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_REPOSITORY: 'acme/backups',
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_WORKFLOW: WORKFLOW,
    },
  });
}

function withoutMask(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
}

function logFile(lines: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpb-logs-'));
  const text = Array.from({ length: lines }, (_, i) =>
    i === lines - 3
      ? `2025-01-01T02:00:0${i % 10}Z ERROR fetch failed url="https://x-access-token:${TOKEN}@github.com/acme/app.git" header="AUTHORIZATION: basic ${TOKEN}"`
      : `2025-01-01T02:00:00Z INFO line ${i}`,
  ).join('\n');
  writeFileSync(join(dir, 'backup-20241231.log'), 'old day\n');
  writeFileSync(join(dir, 'backup-20250101.log'), `${text}\n`);
  return dir;
}

describe('report-failure: pure parts', () => {
  it('finds the oldest open issue carrying this workflow marker, never a pull request or another workflow', () => {
    const issues = [
      { number: 9, body: `${workflowMarker('other')}\n`, state: 'open' },
      { number: 7, body: `x ${workflowMarker(WORKFLOW)}`, state: 'open' },
      { number: 3, body: workflowMarker(WORKFLOW), state: 'open', pull_request: { url: 'u' } },
      { number: 5, body: workflowMarker(WORKFLOW), state: 'open' },
    ];
    expect(findMatchingIssue(issues, WORKFLOW)?.number).toBe(5);
    expect(findMatchingIssue(issues, 'nope')).toBeUndefined();
    // A name that tries to close the comment early stays inside it.
    expect(workflowMarker('a --> b')).toBe('<!-- github-private-backup:workflow=a%20--%3E%20b -->');
  });

  it('quotes the last lines redacted, inside a fence a log line cannot close', () => {
    const excerpt = logExcerpt(['a\nb\n```\nghp_abcdefghijklmnopqrstuvwxyz123\n'], 3);
    expect(excerpt).toEqual(['b', '```', '***']);
    const body = failureBody(
      { workflow: 'w', runUrl: 'https://h/r/actions/runs/1', runId: '1', runAttempt: '1' },
      { failedAction: 'sync', failedRepositories: ['a/b'], logExcerpt: excerpt },
    );
    expect(body).toContain('````text\nb\n```\n***\n````');
  });
});

describe('report-failure: the bundled action against a stand-in GitHub API', () => {
  it('opens an issue when none is open: label created first, body with run link, action, repositories and a redacted excerpt', async () => {
    const logs = logFile(80);
    const run = await report({ 'failed-action': 'sync', 'failed-repositories': 'acme/app\nacme/lib\n', 'log-files': logs, labels: 'ops' });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(api.calls).toEqual([
      LIST,
      'GET /repos/acme/backups/labels/backup-failure',
      'POST /repos/acme/backups/labels',
      'GET /repos/acme/backups/labels/ops',
      'POST /repos/acme/backups/labels',
      `POST ${ISSUES}`,
    ]);
    expect(api.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    expect(api.requests[2]!.body).toMatchObject({ name: 'backup-failure' });
    const created = api.requests[5]!.body as { title: string; body: string; labels: string[] };
    expect(created.title).toBe(`Backup failed: ${WORKFLOW}`);
    expect(created.labels).toEqual(['backup-failure', 'ops']);
    expect(created.body.startsWith(workflowMarker(WORKFLOW))).toBe(true);
    expect(created.body).toContain('[4242 (attempt 2)](https://github.example/acme/backups/actions/runs/4242/attempts/2)');
    expect(created.body).toContain('**Failed action:** `sync`');
    expect(created.body).toContain('- `acme/app`\n- `acme/lib`');
    expect(created.body).toContain('Last 50 log lines');
    expect(created.body).toContain('INFO line 79');
    expect(created.body).toContain('INFO line 30');
    expect(created.body).not.toContain('INFO line 29\n');
    expect(created.body).not.toContain('old day');
    expect(created.body).toContain('url="https://***@github.com/acme/app.git"');
    expect(created.body).toContain('backup-logs-4242-2');
    expect(created.body).not.toContain(TOKEN);

    expect(run.outputs).toEqual({ result: 'created', 'issue-number': '1', 'issue-url': 'https://github.example/acme/backups/issues/1' });
    expect(run.summary).toContain('Issue [#1](https://github.example/acme/backups/issues/1) created.');
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`);
    expect(withoutMask(run.stdout)).not.toContain(TOKEN);
  });

  it('comments instead when this workflow already has an open issue, found on the second page among other workflows and pull requests', async () => {
    model.labels.add('backup-failure');
    model.add({ title: 'PR', body: workflowMarker(WORKFLOW), labels: ['backup-failure'], pull_request: true });
    const mine = model.add({ title: `Backup failed: ${WORKFLOW}`, body: `${workflowMarker(WORKFLOW)}\nold`, labels: ['backup-failure'] });
    model.add({ title: 'closed one', body: workflowMarker(WORKFLOW), labels: ['backup-failure'], state: 'closed' });
    for (let i = 0; i < 110; i++) model.add({ title: `other ${i}`, body: workflowMarker(`other ${i}`), labels: ['backup-failure'] });

    const run = await report({ 'failed-action': 'verify', 'failed-repositories': 'acme/app' });

    expect(run.code).toBe(0);
    expect(api.calls).toEqual([LIST, `${LIST}&page=2`, `POST ${ISSUES}/${mine.number}/comments`]);
    expect(mine.comments).toHaveLength(1);
    expect(mine.comments[0]).toContain('The backup failed again.');
    expect(mine.comments[0]).toContain('**Failed action:** `verify`');
    expect(mine.comments[0]).toContain('- `acme/app`');
    expect(model.issues.filter((i) => i.state === 'open')).toHaveLength(112);
    expect(run.outputs.result).toBe('commented');
    expect(run.outputs['issue-number']).toBe(String(mine.number));
  });

  it('opens a new issue when only another workflow has one open', async () => {
    model.labels.add('backup-failure');
    model.add({ title: 'other', body: workflowMarker('Another backup'), labels: ['backup-failure'] });
    const run = await report({ 'failed-action': 'sync' });
    expect(run.code).toBe(0);
    expect(api.calls).toEqual([LIST, 'GET /repos/acme/backups/labels/backup-failure', `POST ${ISSUES}`]);
    expect(run.outputs['issue-number']).toBe('2');
  });

  it('on success comments on and closes the open issue', async () => {
    model.labels.add('backup-failure');
    const mine = model.add({ title: 'x', body: workflowMarker(WORKFLOW), labels: ['backup-failure'] });
    const run = await report({ status: 'success' });
    expect(run.code).toBe(0);
    expect(api.calls).toEqual([LIST, `POST ${ISSUES}/1/comments`, `PATCH ${ISSUES}/1`]);
    expect(api.requests[2]!.body).toEqual({ state: 'closed', state_reason: 'completed' });
    expect(mine.state).toBe('closed');
    expect(mine.comments[0]).toContain('succeeded again in [run 4242](https://github.example/acme/backups/actions/runs/4242/attempts/2)');
    expect(run.outputs.result).toBe('closed');
  });

  it('on success with nothing open does nothing but look', async () => {
    const run = await report({ status: 'success' });
    expect(run.code).toBe(0);
    expect(api.calls).toEqual([LIST]);
    expect(run.outputs).toMatchObject({ result: 'none', 'issue-number': '' });
  });

  it('tolerates a label created meanwhile by another run (422 already_exists)', async () => {
    // The label lookup says 404, but by the time we create it, someone else has.
    api.on('GET', '/repos/acme/backups/labels/backup-failure', () => {
      model.labels.add('backup-failure');
      return { status: 404, body: { message: 'Not Found' } };
    });
    const run = await report({});
    expect(run.code).toBe(0);
    expect(api.calls.slice(1)).toEqual(['GET /repos/acme/backups/labels/backup-failure', 'POST /repos/acme/backups/labels', `POST ${ISSUES}`]);
    expect(run.outputs.result).toBe('created');
  });

  it('fails the step with a clear message on a 403 rate limit, without the token', async () => {
    api.on('GET', ISSUES, () => rateLimited(Math.floor(Date.UTC(2031, 5, 1) / 1000)));
    const run = await report({ 'failed-action': 'sync' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      '::error::GitHub API rate limit exceeded while listing open issues labelled backup-failure in acme/backups; requests are refused until 2031-06-01T00:00:00.000Z',
    );
    expect(withoutMask(run.stdout + run.stderr)).not.toContain(TOKEN);
    expect(api.calls).toEqual([LIST]);
  });

  it('fails the step on a 403 without rate limit (token lacks issues: write)', async () => {
    model.labels.add('backup-failure');
    api.on('POST', ISSUES, () => ({ status: 403, body: { message: 'Resource not accessible by integration' } }));
    const run = await report({});
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::GitHub API refused access while creating the failure issue in acme\/backups \(403 Forbidden\).*Resource not accessible by integration/);
  });

  it('refuses bad inputs before any request', async () => {
    const run = await report({ status: 'maybe' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('::error::input "status" must be "failure" or "success", got "maybe"');
    expect(api.requests).toHaveLength(0);
  });
});
