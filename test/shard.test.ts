// --shard K/N (src/shard.ts): the N slices partition the repositories, a repository never moves when others are
// added, and the CLI works on its slice only.
import { describe, expect, it } from 'vitest';
import { inShard, parseShard, shardOf } from '../src/shard.ts';
import { UsageError } from '../src/errors.ts';
import { runCli } from './helpers/cli.ts';
import { createUpstream, makeTempDir } from './helpers/git-fixtures.ts';
import { join } from 'node:path';

const repos = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => ({ id: `acme/${prefix}${i}` }));

describe('shards', () => {
  it('partition the repositories: every one in exactly one of the N slices, none empty at this size', () => {
    const all = repos(500);
    for (const count of [1, 2, 4, 7]) {
      const slices = Array.from({ length: count }, (_, k) => inShard(all, { index: k + 1, count }));
      expect(slices.flat().map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort());
      expect(new Set(slices.flat().map((r) => r.id)).size).toBe(all.length);
      for (const slice of slices) expect(slice.length).toBeGreaterThan(500 / count / 2); // roughly even
    }
  });

  it('are stable: adding repositories never moves one that was already there', () => {
    const before = repos(200);
    const after = [...repos(50, 'new'), ...before];
    for (let k = 1; k <= 4; k++) {
      const was = inShard(before, { index: k, count: 4 }).map((r) => r.id);
      const now = new Set(inShard(after, { index: k, count: 4 }).map((r) => r.id));
      for (const id of was) expect(now.has(id)).toBe(true);
    }
    expect(shardOf('acme/r1', 4)).toBe(shardOf('ACME/R1', 4)); // GitHub names are case-insensitive
  });

  it('parse K/N and refuse anything else', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '4', 'a/b', '-1/2', '1/2/3']) expect(() => parseShard(bad)).toThrow(UsageError);
  });

  it('the CLI works on its slice only; --shard with a bad value exits 2', async () => {
    const upstreams = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'].map((name) => createUpstream({ name }));
    try {
      const root = join(makeTempDir('gpb-shard-'), 'backup');
      const args = ['--root', root, ...upstreams.flatMap((u) => ['--repo', u.bare])];
      const seen: string[] = [];
      for (let k = 1; k <= 2; k++) {
        const run = await runCli(['init', '--shard', `${k}/2`, '--json', ...args]);
        expect(run.code).toBe(0);
        const ids = (JSON.parse(run.stdout) as { outcomes: Array<{ repo: string }> }).outcomes.map((o) => o.repo);
        expect(ids).toEqual(upstreams.map((u) => u.id).filter((id) => shardOf(id, 2) === k).sort());
        seen.push(...ids);
      }
      expect(seen.sort()).toEqual(upstreams.map((u) => u.id).sort());
      expect((await runCli(['status', '--shard', '3/2', ...args])).code).toBe(2);
    } finally {
      for (const u of upstreams) u.cleanup();
    }
  });

  it('an empty slice says so and succeeds, for writers and readers alike, instead of "0 ok" or "none configured"', async () => {
    const upstream = createUpstream({ name: 'lonely' });
    try {
      const root = join(makeTempDir('gpb-shard-empty-'), 'backup');
      const home = shardOf(upstream.id, 4);
      const empty = home === 1 ? 2 : 1;
      const args = ['--root', root, '--repo', upstream.bare];
      expect((await runCli(['sync', '--shard', `${home}/4`, ...args])).code).toBe(0);
      const line = `shard ${empty}/4 holds none of the 1 selected repositories (each falls in one slice by a hash of its name); nothing to do`;
      for (const command of ['sync', 'status', 'list']) {
        const run = await runCli([command, '--shard', `${empty}/4`, ...args]);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain(`${command}: ${line}`);
      }
      // Without --repo, read commands discover what is under the root: still one repository, in another slice.
      const discovered = await runCli(['status', '--shard', `${empty}/4`, '--root', root, '--json']);
      expect(discovered.code, discovered.stderr).toBe(0);
      expect(JSON.parse(discovered.stdout)).toMatchObject({ outcomes: [], shard: { index: empty, count: 4, of: 1 } });
      const own = await runCli(['status', '--shard', `${home}/4`, ...args]);
      expect(own.stdout).toContain(`(shard ${home}/4: 1 of 1 repositories)`);
      // A root with nothing at all is still "none found", not an empty shard.
      const nothing = await runCli(['status', '--shard', `${empty}/4`, '--root', join(root, 'elsewhere')]);
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toMatch(/no repositories configured and none found/);
    } finally {
      upstream.cleanup();
    }
  });
});
