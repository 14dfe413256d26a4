// One shape names a snapshot in every result (docs/OPERATIONS.md "Snapshots in results"): the bundled CLI's --json
// for snapshot, sync, list, verify, export and restore, on one real backup, names the same snapshot with the same
// repository, name, path and createdAt, and a pinned one carries `pinned` everywhere.
// `npm test` builds dist/ first; when running this file alone, run `npm run build` after changing src/.
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstream, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';
import { runCli } from './helpers/cli.ts';

let upstream: Upstream;
let root: string;

beforeAll(() => {
  upstream = createUpstream();
  root = join(makeTempDir('gpb-ref-'), 'backup');
});

afterAll(() => {
  spawnSync('chmod', ['-R', 'u+w', root, upstream.tmp]);
  upstream.cleanup();
});

/** The value of the one outcome of `backup-manager <args> --json`. */
async function valueOf(...args: string[]): Promise<Record<string, unknown>> {
  const run = await runCli([...args, '--root', root, '--repo', upstream.bare, '--json']);
  expect(run.code, run.stderr + run.stdout).toBe(0);
  const result = JSON.parse(run.stdout) as { outcomes: Array<{ ok: boolean; value: Record<string, unknown> }> };
  expect(result.outcomes).toHaveLength(1);
  return result.outcomes[0]!.value;
}

const REF_KEYS = ['createdAt', 'name', 'path', 'repository'];

/** The reference fields of `value`, checked to be all of them. */
function refOf(value: unknown, extra: string[] = []): Record<string, unknown> {
  const record = value as Record<string, unknown>;
  for (const key of REF_KEYS) expect(record, key).toHaveProperty(key);
  const keys = Object.keys(record).filter((k) => REF_KEYS.includes(k) || k === 'pinned');
  expect(keys.sort()).toEqual([...REF_KEYS, ...extra].sort());
  return Object.fromEntries(keys.map((k) => [k, record[k]]));
}

describe('a snapshot reference', () => {
  it('is the same object in snapshot, sync, list, verify, export and restore', async () => {
    const synced = refOf((await valueOf('sync')).snapshot);
    expect(synced).toMatchObject({ repository: upstream.id, name: expect.stringMatching(/^snapshot-\d{8}-\d{6}$/), path: join(root, 'snapshots', upstream.id, synced.name as string) });
    expect(Date.parse(synced.createdAt as string)).not.toBeNaN();

    const pinned = refOf((await valueOf('snapshot', '--pin', '--reason', 'before the migration')).snapshot, ['pinned']);
    expect(pinned.pinned).toMatchObject({ reason: 'before the migration', pinnedAt: expect.any(String) });

    const listed = (await valueOf('list')).snapshots as unknown[];
    expect(listed.map((s) => refOf(s, (s as { pinned?: unknown }).pinned ? ['pinned'] : []))).toEqual([synced, pinned]);

    const verified = (await valueOf('verify', '--all')).snapshots as unknown[];
    expect(verified.map((s) => refOf(s, (s as { pinned?: unknown }).pinned ? ['pinned'] : []))).toEqual([synced, pinned]);

    const exported = await valueOf('export', synced.name as string);
    expect(refOf(exported.snapshot)).toEqual(synced);
    expect(exported.archive).toBe(join(root, 'archives', upstream.id, `${synced.name as string}.tar.gz`));

    const restored = await valueOf('restore', pinned.name as string, '--to', join(makeTempDir('gpb-ref-to-'), 'copy.git'));
    expect(refOf(restored.snapshot, ['pinned'])).toEqual(pinned);
  });

  it('from an archive names the archive as its path', async () => {
    const exported = await valueOf('export', 'latest');
    const archive = exported.archive as string;
    const restored = await valueOf('restore', '--from-archive', archive, '--to', join(makeTempDir('gpb-ref-archive-'), 'copy.git'));
    const source = exported.snapshot as Record<string, unknown>;
    // The archive holds the snapshot, not its pin (pins live beside snapshots, in state/).
    const { pinned: _pin, ...asExported } = refOf(source, source.pinned ? ['pinned'] : []);
    expect(refOf(restored.snapshot)).toEqual({ ...asExported, path: archive });
  });
});
