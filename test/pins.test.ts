// Pinned snapshots against real repositories (engine with a clock moved by hand for retention, the built CLI for
// what people see): taken with a reason, shown by list and status, never pruned until unpinned; a bad reason
// leaves nothing behind.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { createBackup, createUpstream, fakeClock, okValue } from './helpers/git-fixtures.ts';

describe('snapshot --pin, unpin', () => {
  const upstream = createUpstream();
  afterAll(() => upstream.cleanup());
  const clock = fakeClock();
  const backup = createBackup([upstream], {}, clock.now);
  const root = backup.root;
  const cli = (...args: string[]) => runCli(['--root', root, '--repo', upstream.bare, ...args]);
  const snapshots = () => readdirSync(join(root, 'snapshots/acme/widgets')).filter((n) => n.startsWith('snapshot-')).sort();
  const pruneOld = async () => {
    clock.advanceDays(40);
    return backup.engine.prune({ retentionDays: 30, keepMin: 0 });
  };

  it('a pinned snapshot survives retention until unpinned, and list and status show why', async () => {
    expect((await backup.engine.sync()).exitCode).toBe(0);
    const pinned = okValue(await backup.engine.snapshot({ pin: true, reason: 'before migrating to monorepo' })).snapshot;
    expect(pinned.pinned?.reason).toBe('before migrating to monorepo');
    upstream.commit('later work');
    expect((await backup.engine.snapshot()).exitCode).toBe(0);
    expect(snapshots()).toHaveLength(3);

    const listed = await cli('list');
    expect(listed.stdout).toMatch(new RegExp(`${pinned.name} .*\\[pinned: before migrating to monorepo\\]`));
    expect((await cli('status')).stdout).toContain(`pinned:    ${pinned.name}: before migrating to monorepo`);

    const pruned = okValue(await pruneOld());
    expect(pruned.decisions.find((d) => d.name === pinned.name)).toMatchObject({ keep: true, reason: 'pinned: before migrating to monorepo' });
    // The sync's snapshot went; the pinned one and the newest stay.
    expect(snapshots()).toHaveLength(2);
    expect(snapshots()).toContain(pinned.name);

    const unpinned = await cli('unpin', pinned.name);
    expect(unpinned.code).toBe(0);
    expect(unpinned.stdout).toMatch(/unpinned \(it was pinned: before migrating to monorepo\); retention applies to it again/);
    expect((await cli('unpin', pinned.name)).code).toBe(10);
    expect(okValue(await pruneOld()).removed).toEqual([pinned.name]);
    expect(snapshots()).toHaveLength(1);
  });

  it('a pin without a reason, or a reason without a pin, is refused before any snapshot is taken', async () => {
    const before = snapshots();
    const noReason = await cli('snapshot', '--pin');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/a pinned snapshot needs a reason: give one with --reason TEXT/);
    expect((await cli('snapshot', '--pin', '--reason', 'two\nlines')).code).toBe(2);
    expect((await cli('snapshot', '--reason', 'why')).code).toBe(2);
    expect(snapshots()).toEqual(before);
  });

  it('a damaged pins file fails prune loudly instead of forgetting the pins', async () => {
    expect((await cli('snapshot', '--pin', '--reason', 'keep me')).code).toBe(0);
    const file = join(root, 'state/pins/acme__widgets.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ repository: 'acme/widgets' });
    writeFileSync(file, '{ not json');
    const before = snapshots();
    const pruned = await pruneOld();
    expect(pruned.exitCode).toBe(1);
    expect(pruned.outcomes[0]).toMatchObject({ ok: false, error: expect.stringMatching(/pinned snapshots are not valid JSON/) });
    expect(snapshots()).toEqual(before);
  });
});
