// The workflows the docs show, and the ones this repository runs, grant what their steps need and nothing is
// missing (docs/GITHUB_ACTIONS.md): report-failure opens issues (issues: write), OIDC credentials need
// id-token: write, checkout reads contents, and every local action they use exists.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const repoRoot = join(import.meta.dirname, '..');

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  permissions?: Record<string, string>;
  jobs?: Record<string, Job>;
}

/** Every yaml block of a markdown file that is a workflow (has jobs), with the line it starts on. */
function workflowBlocks(file: string): Array<{ where: string; workflow: Workflow }> {
  const lines = readFileSync(join(repoRoot, file), 'utf8').split('\n');
  const found: Array<{ where: string; workflow: Workflow }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\s*$/.test(lines[i]!)) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    const workflow = parse(lines.slice(i + 1, end).join('\n')) as Workflow | null;
    if (workflow?.jobs) found.push({ where: `${file}:${i + 2}`, workflow });
    i = end;
  }
  return found;
}

const LEVEL = { none: 0, read: 1, write: 2 } as const;

/** A job's effective permission for `scope`: its own block replaces the workflow's (GitHub's rule). */
function granted(workflow: Workflow, job: Job, scope: string): number {
  const permissions = job.permissions ?? workflow.permissions ?? {};
  return LEVEL[(permissions[scope] ?? 'none') as keyof typeof LEVEL] ?? 0;
}

/** What each step needs: [scope, level, why]. */
function needs(step: Step): Array<[string, number, string]> {
  const uses = step.uses ?? '';
  const out: Array<[string, number, string]> = [];
  if (/report-failure/.test(uses)) out.push(['issues', LEVEL.write, 'report-failure opens and closes the failure issue']);
  if (/configure-aws-credentials/.test(uses) && step.with?.['role-to-assume']) out.push(['id-token', LEVEL.write, 'OIDC credentials for the store']);
  if (/actions\/checkout/.test(uses)) out.push(['contents', LEVEL.read, 'checkout']);
  return out;
}

const sources = [
  ...workflowBlocks('docs/GITHUB_ACTIONS.md'),
  ...readdirSync(join(repoRoot, '.github/workflows')).map((f) => ({
    where: `.github/workflows/${f}`,
    workflow: parse(readFileSync(join(repoRoot, '.github/workflows', f), 'utf8')) as Workflow,
  })),
];

describe('workflow permissions', () => {
  it('finds the examples in docs/GITHUB_ACTIONS.md', () => {
    expect(sources.filter((s) => s.where.startsWith('docs/')).length).toBeGreaterThanOrEqual(2);
  });

  it.each(sources.map((s) => [s.where, s.workflow] as const))('%s grants what its steps need', (_where, workflow) => {
    for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
      for (const step of job.steps ?? []) {
        for (const [scope, level, why] of needs(step)) {
          expect(granted(workflow, job, scope), `job ${name}: ${step.uses} needs ${scope}: ${level === LEVEL.write ? 'write' : 'read'} (${why})`).toBeGreaterThanOrEqual(level);
        }
        const local = /^\.\/(actions\/[\w-]+)$/.exec(step.uses ?? '')?.[1];
        if (local) expect(existsSync(join(repoRoot, local, 'action.yml')), `${step.uses} does not exist`).toBe(true);
      }
    }
  });
});
