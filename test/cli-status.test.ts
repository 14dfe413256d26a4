// Honest status output from the bundled CLI: ✓ only for healthy, ⚠ and ✗ otherwise, a summary by verdict,
// warnings for an unknown repository or a missing root, and health --json whose outcomes agree with `failed`.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult, StatusRepoResult } from '../src/types.ts';
import { runCli } from './helpers/cli.ts';
import { createUpstream, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';

let good: Upstream;
let broken: Upstream;
let root: string;

beforeAll(async () => {
  good = createUpstream({ name: 'good' });
  broken = createUpstream({ name: 'broken' });
  root = join(makeTempDir('gpb-status-'), 'backup');
  expect((await runCli(['sync', '--root', root, '--repo', good.bare, '--repo', broken.bare])).code).toBe(0);
  renameSync(broken.bare, `${broken.bare}.gone`);
  expect((await runCli(['sync', '--root', root, '--repo', good.bare, '--repo', broken.bare])).code).toBe(3);
});

afterAll(() => {
  good.cleanup();
  broken.cleanup();
});

describe('status and health output', () => {
  it('status marks only the healthy repository ✓ and counts by verdict', async () => {
    const run = await runCli(['status', '--root', root]);
    expect(run.code).toBe(0); // a report: health is the check
    expect(run.stdout).toMatch(/^✓ acme\/good: HEALTHY: last sync \S+ succeeded; newest snapshot snapshot-\S+ is 0 h old$/m);
    expect(run.stdout).toMatch(/^✗ acme\/broken: FAILING: last sync at \S+ failed: acme\/broken was not found at /m);
    expect(run.stdout).not.toMatch(/^✓ acme\/broken/m);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('status: 1 healthy, 1 failing');
  });

  it('health exits 1 and its JSON outcomes agree with failed', async () => {
    const run = await runCli(['health', '--root', root, '--json']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as RunResult<StatusRepoResult>;
    expect(result.failed).toEqual(['acme/broken']);
    expect(result.outcomes.filter((o) => !o.ok).map((o) => o.repo)).toEqual(result.failed);
    const broken = result.outcomes.find((o) => o.repo === 'acme/broken')!;
    expect(broken).toMatchObject({ ok: false, exitCode: 1, details: { health: 'failing', initialized: true } });
    const text = await runCli(['health', '--root', root]);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('health: 1 healthy, 1 failing (exit 1)');
  });

  it('list --repo for a repository that is not backed up warns instead of listing nothing quietly', async () => {
    const run = await runCli(['list', '--root', root, '--repo', 'acme/typo']);
    expect(run.stdout).toContain(`⚠ acme/typo: 0 snapshot(s): nothing of acme/typo is backed up under ${root} (no mirror, no snapshots)`);
    expect(run.stderr).toContain('list acme/typo: nothing of acme/typo is backed up');
  });

  it('status --root for a root that does not exist warns', async () => {
    const missing = join(makeTempDir('gpb-status-'), 'nonexistent');
    const run = await runCli(['status', '--root', missing, '--repo', 'acme/widgets']);
    expect(run.stdout).toMatch(/^⚠ acme\/widgets: UNINITIALIZED: /m);
    expect(run.stdout).toContain(`⚠ the backup root ${missing} does not exist`);
  });
});
