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
});
