// A sharded backup end to end, as a matrix runs it: the bundled actions/backup once per shard (INPUT_* variables,
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files) against real repositories, each uploading its result through the real
// @actions/artifact client to a stand-in artifact service; then the bundled actions/merge-results over those very
// files, as actions/download-artifact leaves them. The pure merge is checked on the same files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeShardResults, type ResultText } from '../actions/merge-results/src/merge.ts';
import { shardOf } from '../src/shard.ts';
import { ArtifactStandIn, readZip } from './helpers/artifact-standin.ts';
import { createUpstream, type Upstream } from './helpers/git-fixtures.ts';
import { runAction } from './helpers/github-standin.ts';

const SHARDS = 3;

describe('a sharded backup: one actions/backup job per shard, then actions/merge-results', () => {
  const upstreams: Upstream[] = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu'].map((name) => createUpstream({ name }));
  const base = mkdtempSync(join(tmpdir(), 'gpb-matrix-'));
  let service: ArtifactStandIn;
  /** The result files, by artifact name, as the service received them. */
  const uploaded = new Map<string, string>();

  const backupShard = async (index: number, attempt: number, repositories: string[]) => {
    const run = await runAction('actions/backup', {
      inputs: { action: 'sync', repositories: repositories.join('\n'), 'backup-root': join(base, `root-${index}`), shard: `${index}/${SHARDS}`, 'upload-logs': 'false' },
      env: { ...service.env(), GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '4711', GITHUB_RUN_ATTEMPT: String(attempt), GITHUB_WORKSPACE: base },
    });
    const name = `backup-result-${index}-of-${SHARDS}-attempt-${attempt}`;
    const artifact = service.artifacts.find((a) => a.name === name);
    expect(artifact, `${name} was not uploaded: ${run.stdout}`).toBeDefined();
    const zip = readZip(artifact!.blob!);
    expect([...zip.keys()]).toEqual([`${name}.json`]);
    uploaded.set(name, zip.get(`${name}.json`)!.toString('utf8'));
    return run;
  };

  /** What actions/download-artifact (pattern backup-result-*, one directory per artifact) leaves in `dir`. */
  const downloaded = (names: string[]): string => {
    const dir = mkdtempSync(join(base, 'results-'));
    for (const name of names) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, `${name}.json`), uploaded.get(name)!);
    }
    return dir;
  };
  const merge = (dir: string, inputs: Record<string, string> = {}) => runAction('actions/merge-results', { inputs: { results: dir, shards: String(SHARDS), ...inputs } });
  const texts = (names: string[]): ResultText[] => names.map((name) => ({ file: name, text: uploaded.get(name)! }));
  const attempt1 = Array.from({ length: SHARDS }, (_, i) => `backup-result-${i + 1}-of-${SHARDS}-attempt-1`);

  // A repository that does not exist: it fails in whichever shard its name falls in.
  const missingRepo = join(base, 'gone', 'acme', 'zzz.git');
  const failingShard = shardOf('acme/zzz', SHARDS);

  beforeAll(async () => {
    service = await new ArtifactStandIn().start();
    const all = [...upstreams.map((u) => u.bare), missingRepo];
    for (let k = 1; k <= SHARDS; k++) {
      const run = await backupShard(k, 1, all);
      // The failing shard's job fails; the others pass.
      expect(run.code, run.stdout).toBe(k === failingShard ? 1 : 0);
    }
  });
  afterAll(async () => {
    await service.close();
    for (const u of upstreams) u.cleanup();
    rmSync(base, { recursive: true, force: true });
  });

  it('each shard job backed up its own slice and uploaded its result (pure merge over the real files)', () => {
    const merged = mergeShardResults(texts(attempt1), SHARDS);
    expect(merged.problems).toEqual([]);
    expect(merged.missing).toEqual([]);
    expect(merged.shards.map((s) => s.index)).toEqual([1, 2, 3]);
    // Every repository exactly once, in the shard its name hashes to.
    expect(merged.result.outcomes.map((o) => o.repo)).toEqual([...upstreams.map((u) => u.id), 'acme/zzz'].sort());
    for (const shard of merged.shards) {
      const expected = [...upstreams.map((u) => u.id), 'acme/zzz'].filter((id) => shardOf(id, SHARDS) === shard.index).length;
      expect(shard.repositories).toBe(expected);
    }
    expect(merged.result.failed).toEqual(['acme/zzz']);
    expect(merged.result.exitCode).toBe(3);
  });

  it('merge-results writes one summary and the outputs for one failure issue', async () => {
    const run = await merge(downloaded(attempt1));
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failure');
    expect(run.outputs['failed-repositories']).toBe('acme/zzz');
    expect(run.outputs['missing-shards']).toBe('');
    expect(JSON.parse(run.outputs['result-json']!).outcomes).toHaveLength(upstreams.length + 1);
    expect(run.stdout).toMatch(/::error::sharded backup sync failed: 1 repositories failed: acme\/zzz/);
    expect(run.summary).toMatch(/^## Sharded backup `sync`: 3 shards, FAILED/);
    for (let k = 1; k <= SHARDS; k++) expect(run.summary).toMatch(new RegExp(`\\| ${k}/3 \\| \\d+ \\| ${k === failingShard ? 1 : 0} \\| ${k === failingShard ? 3 : 0} \\| 1 \\|`));
    for (const u of upstreams) expect(run.summary).toContain(`| ${u.id} |`);
  });

  it('a re-run of the failed shard (a new attempt) replaces its earlier result', async () => {
    // The re-run job sees the repository list without the one that is gone (someone fixed the config).
    await backupShard(failingShard, 2, upstreams.map((u) => u.bare));
    const names = [...attempt1, `backup-result-${failingShard}-of-${SHARDS}-attempt-2`];
    const run = await merge(downloaded(names));
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.status).toBe('success');
    expect(run.outputs['failed-repositories']).toBe('');
    expect(run.summary).toMatch(/3 shards, every shard reported, nothing failed/);
    expect(run.summary).toMatch(new RegExp(`\\| ${failingShard}/3 \\| \\d+ \\| 0 \\| 0 \\| 2 \\|`));
  });

  it('a shard that never reported, or a file that is not a result, fails the merged run and says which', async () => {
    const absent = await merge(downloaded(attempt1.filter((n) => !n.startsWith('backup-result-2-'))), { 'fail-on-failure': 'false' });
    expect(absent.code).toBe(0);
    expect(absent.outputs.status).toBe('failure');
    expect(absent.outputs['missing-shards']).toBe('2/3');
    expect(absent.summary).toMatch(/\| 2\/3 \| — \| — \| no result \|/);
    expect(absent.summary).toMatch(/Shards without a result:\*\* 2\/3/);

    const dir = downloaded(attempt1);
    writeFileSync(join(dir, 'stray.json'), '{"format":1,"shard":{"index":9,"count":3}}');
    writeFileSync(join(dir, 'broken.json'), '{not json');
    const hostile = await merge(dir);
    expect(hostile.code).toBe(1);
    expect(hostile.summary).toMatch(/- broken\.json: not JSON/);
    expect(hostile.summary).toMatch(/- stray\.json: not a shard result at /);
    // The real results still count.
    expect(JSON.parse(hostile.outputs['result-json']!).outcomes).toHaveLength(upstreams.length + 1);

    const other = mergeShardResults([...texts(attempt1), { file: 'x.json', text: uploaded.get(attempt1[0]!)!.replace('"count": 3', '"count": 4') }], SHARDS);
    expect(other.problems).toEqual(['x.json: shard 1/4 is not from this 3-shard matrix']);
    const twice = mergeShardResults([...texts(attempt1), { file: 'again.json', text: uploaded.get(attempt1[0]!)! }], SHARDS);
    expect(twice.problems).toEqual([`again.json: shard 1 attempt 1 reported twice (also ${attempt1[0]})`]);

    const none = await merge(mkdtempSync(join(base, 'empty-')));
    expect(none.code).toBe(1);
    expect(none.outputs['missing-shards']).toBe('1/3\n2/3\n3/3');
  });
});
