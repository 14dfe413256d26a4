// status reads the summary the writers record (src/engine/repo-summary.ts): it stays right as snapshots are taken
// and pruned and as the mirror moves, and it never walks an old snapshot or reads its snapshot.json; verify still
// re-reads everything.
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Layout } from '../src/layout.ts';
import type { StatusRepoResult } from '../src/types.ts';
import { createBackup, createUpstream, fakeClock, git, okValue } from './helpers/git-fixtures.ts';

const upstream = createUpstream({ name: 'summarized' });
afterAll(() => upstream.cleanup());

describe('status from the recorded summary', () => {
  const clock = fakeClock('2026-03-01T02:00:00Z');
  const b = createBackup([upstream], { retentionDays: 30, keepMin: 1 }, clock.now);
  const target = { owner: 'acme', name: 'summarized', id: 'acme/summarized', url: upstream.bare };
  const summaryFile = new Layout(b.root).repoSummary(target);
  /** What the summary supplies to status (the rest is ages from the clock). */
  const recorded = (s: StatusRepoResult) => {
    const { head, branches, tags, snapshotCount, newestSnapshot, oldestSnapshot, diskUsedBytes, apparentBytes } = s;
    return { head, branches, tags, snapshotCount, newestSnapshot, oldestSnapshot, diskUsedBytes, apparentBytes };
  };
  /** Status with the summary thrown away first: what a full walk measures now. */
  const measuredAfresh = async () => {
    rmSync(summaryFile, { force: true });
    return recorded(okValue(await b.engine.status()));
  };

  it('is written by sync and agrees with a fresh measurement', async () => {
    upstream.commit('one');
    upstream.push('main');
    okValue(await b.engine.sync());
    expect(existsSync(summaryFile)).toBe(true);
    const status = okValue(await b.engine.status());
    expect(status).toMatchObject({ snapshotCount: 1, branches: 2, tags: 2, head: { hash: git(upstream.bare, 'rev-parse', 'main').trim() } });
    expect(status.diskUsedBytes).toBeGreaterThan(0);
    expect(await measuredAfresh()).toEqual(recorded(status));
  });

  it('stays right as snapshots are added, the mirror moves and old snapshots are pruned', async () => {
    okValue(await b.engine.snapshot());
    clock.advanceDays(20);
    upstream.commit('two');
    upstream.push('main', 'main:refs/heads/topic');
    git(upstream.work, 'tag', 'v1');
    upstream.push('v1');
    okValue(await b.engine.sync());
    const grown = okValue(await b.engine.status());
    expect(grown).toMatchObject({ snapshotCount: 3, branches: 3, tags: 3, head: { hash: git(upstream.bare, 'rev-parse', 'main').trim() } });
    expect(await measuredAfresh()).toEqual(recorded(grown));

    clock.advanceDays(20); // the first two snapshots are now 40 days old
    const pruned = okValue(await b.engine.prune());
    expect(pruned.removed).toHaveLength(2);
    const after = okValue(await b.engine.status());
    expect(after.snapshotCount).toBe(1);
    expect(after.oldestSnapshot).toBe(grown.newestSnapshot);
    expect(after.diskUsedBytes).toBeLessThanOrEqual(grown.diskUsedBytes);
    expect(await measuredAfresh()).toEqual(recorded(after));
  });

  it('never walks an old snapshot nor reads its snapshot.json; verify does', async () => {
    okValue(await b.engine.snapshot());
    const before = okValue(await b.engine.status());
    expect(before.snapshotCount).toBe(2);
    // Tamper with the older snapshot behind the tool's back: 1 MiB more on disk and a snapshot.json that is junk.
    const old = join(b.root, 'snapshots', 'acme', 'summarized', before.oldestSnapshot!);
    chmodSync(old, 0o755);
    writeFileSync(join(old, 'planted.bin'), Buffer.alloc(1 << 20, 7));
    chmodSync(join(old, 'snapshot.json'), 0o644);
    writeFileSync(join(old, 'snapshot.json'), 'not json');
    const status = okValue(await b.engine.status());
    expect(recorded(status)).toEqual(recorded(before)); // had status walked it, the planted MiB would show; had it parsed it, it would fail
    const verify = (await b.engine.verify({ all: true })).outcomes[0]!;
    expect(verify.ok).toBe(false);
    expect(!verify.ok && verify.error).toContain(`${before.oldestSnapshot}: snapshot.json`);
    // A snapshot of the unchanged mirror adds only its own files to the summary; a writer that measures again
    // (a sync that fetched) counts the planted file.
    okValue(await b.engine.snapshot());
    expect(okValue(await b.engine.status()).diskUsedBytes).toBeLessThan(before.diskUsedBytes + (1 << 20));
    upstream.commit('three');
    upstream.push('main');
    okValue(await b.engine.sync());
    expect(okValue(await b.engine.status()).diskUsedBytes).toBeGreaterThanOrEqual(before.diskUsedBytes + (1 << 20));
  });
});
