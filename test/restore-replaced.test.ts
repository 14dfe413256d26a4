// An in-place restore keeps the mirror it replaces as a pinned snapshot "replaced by restore of <name>": listed,
// verifiable, never pruned until unpinned, then retention's like any other. Real repositories, the built CLI for what
// people see, the engine (with a clock moved by hand) for what takes snapshots and for retention.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { restoreCommand } from '../src/cli/restore.ts';
import { createBackup, createUpstream, fakeClock, okValue, refsOf } from './helpers/git-fixtures.ts';
import type { SnapshotMetadata } from '../src/metadata.ts';

describe('restore in place keeps the replaced mirror as a pinned snapshot', () => {
  const upstream = createUpstream();
  afterAll(() => upstream.cleanup());
  const clock = fakeClock();
  const backup = createBackup([upstream], {}, clock.now);
  const cli = (...args: string[]) => runCli(['--root', backup.root, '--repo', upstream.bare, ...args]);
  const mirror = join(backup.root, 'immutable/acme/widgets.git');
  const snapshotsDir = join(backup.root, 'snapshots/acme/widgets');
  const snapshots = () => readdirSync(snapshotsDir).filter((n) => n.startsWith('snapshot-')).sort();
  const leftBeside = () => readdirSync(join(backup.root, 'immutable/acme')).filter((n) => n.includes('.replaced-'));

  it('is listed with its reason, verifies, survives retention, and unpinning hands it back', async () => {
    const first = okValue(await backup.engine.sync()).snapshot!;
    upstream.push('--delete', 'feature');
    upstream.commit('after the first snapshot');
    upstream.push('main');
    okValue(await backup.engine.sync());
    const replacedRefs = refsOf(mirror);
    expect(replacedRefs['refs/heads/feature']).toBeUndefined();

    const result = await backup.engine.restore({ snapshot: first.name });
    const value = okValue(result);
    const kept = value.keptAs!.snapshot;
    expect(value.keptAs!.reason).toBe(`replaced by restore of ${first.name}`);
    expect(value.keptPrevious).toBe(join(snapshotsDir, kept));
    expect(restoreCommand.render(result)).toContain(`the replaced mirror is kept as pinned snapshot ${kept} (replaced by restore of ${first.name}); "unpin ${kept}" hands it to retention`);
    // The mirror is the restored snapshot; what it was is a snapshot now, and nothing is left beside the mirror.
    expect(refsOf(mirror)).toEqual(refsOf(first.path));
    expect(leftBeside()).toEqual([]);
    const metadata = JSON.parse(readFileSync(join(snapshotsDir, kept, 'snapshot.json'), 'utf8')) as SnapshotMetadata;
    expect(metadata.refs).toEqual(replacedRefs);
    expect(refsOf(join(snapshotsDir, kept))).toEqual(replacedRefs);

    const listed = (await cli('list')).stdout;
    expect(listed).toMatch(new RegExp(`${kept} .*\\[pinned: replaced by restore of ${first.name}\\]`));
    expect((await cli('status')).stdout).toContain(`${kept}: replaced by restore of ${first.name}`);
    const verified = await cli('verify', kept);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    // Forty days on, with newer snapshots: retention keeps the pinned one, and takes it once unpinned.
    clock.advanceDays(40);
    upstream.commit('much later');
    upstream.push('main');
    okValue(await backup.engine.sync({ noPrune: true }));
    const pruned = okValue(await backup.engine.prune({ retentionDays: 30, keepMin: 0 }));
    expect(pruned.decisions.find((d) => d.name === kept)).toMatchObject({ keep: true, reason: `pinned: replaced by restore of ${first.name}` });
    expect(pruned.removed).toContain(first.name);
    const unpinned = await cli('unpin', kept);
    expect(unpinned.code, unpinned.stderr).toBe(0);
    expect(unpinned.stdout).toContain(`it was pinned: replaced by restore of ${first.name}`);
    expect(okValue(await backup.engine.prune({ retentionDays: 30, keepMin: 0 })).removed).toContain(kept);
    expect(snapshots()).not.toContain(kept);
  });

  it('a replaced mirror that cannot be made a snapshot stays beside the mirror, and the restore still succeeds', async () => {
    const before = snapshots();
    const newest = before.at(-1)!;
    const replacedRefs = refsOf(mirror);
    // A damaged mirror (the reason to restore one): git refuses its packed-refs, so no snapshot can record its refs.
    writeFileSync(join(mirror, 'packed-refs'), 'this is not a packed-refs file\n');
    const restored = await cli('restore', newest);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toMatch(/the replaced mirror could not be kept as a snapshot .*; it stays at .*widgets\.git\.replaced-/);
    const [beside] = leftBeside();
    expect(restored.stdout).toContain(`previous content kept at ${join(backup.root, 'immutable/acme', beside!)}`);
    expect(readFileSync(join(backup.root, 'immutable/acme', beside!, 'packed-refs'), 'utf8')).toBe('this is not a packed-refs file\n');
    expect(refsOf(mirror)).toEqual(replacedRefs);
    // No half-made snapshot was left: the same snapshots as before.
    expect(snapshots()).toEqual(before);
  });
});
