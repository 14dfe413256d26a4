// Time cannot be tampered with (docs/OPERATIONS.md "Time and clock skew"), and stale means stale: real git, real
// snapshots on disk, clocks moved by hand. Snapshot names order and age snapshots; a createdAt that disagrees with
// the name, or a name in the future, is kept but never trusted as the newest.
import { chmodSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { readMetadata } from '../src/metadata.ts';
import type { StatusRepoResult } from '../src/types.ts';
import { createBackup, createUpstream, fakeClock, okValue, refsOf, type Upstream } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();

function upstream(): Upstream {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  return u;
}

const DAY = 86_400_000;

/** Rewrite a field of a (read-only) snapshot's snapshot.json, as a tamperer with write access to the disk would. */
function tamper(snapshotDir: string, change: Record<string, unknown>): void {
  const file = join(snapshotDir, 'snapshot.json');
  chmodSync(snapshotDir, 0o755);
  chmodSync(file, 0o644);
  writeFileSync(file, `${JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...change }, null, 2)}\n`);
  chmodSync(file, 0o444);
  chmodSync(snapshotDir, 0o555);
}

describe('snapshot names within one second', () => {
  it('a second and third snapshot in the same second get -001 and -002 at once, in order, and verify', async () => {
    const u = upstream();
    // A clock that never moves: the old engine slept a second per collision and gave up after three.
    const clock = fakeClock('2026-03-04T05:06:07.250Z', 0);
    const b = createBackup([u], {}, clock.now);
    const first = okValue(await b.engine.sync()).snapshot!;
    const second = okValue(await b.engine.snapshot()).snapshot;
    const third = okValue(await b.engine.snapshot()).snapshot;
    expect([first.name, second.name, third.name]).toEqual(['snapshot-20260304-050607', 'snapshot-20260304-050607-001', 'snapshot-20260304-050607-002']);
    for (const s of [first, second, third]) expect((await readMetadata(s.path)).createdAt).toBe('2026-03-04T05:06:07.250Z');
    expect(okValue(await b.engine.list()).snapshots.map((s) => s.name)).toEqual([first.name, second.name, third.name]);
    expect(okValue(await b.engine.verify()).snapshots.map((s) => s.name)).toEqual([third.name]);
    expect(okValue(await b.engine.verify({ all: true })).snapshots.every((s) => s.ok)).toBe(true);
  });
});

describe('tampered snapshot times', () => {
  async function threeDays() {
    const u = upstream();
    const clock = fakeClock('2026-05-01T02:00:00Z', 0);
    const b = createBackup([u], { retentionDays: 1, keepMin: 1 }, clock.now);
    const names: string[] = [];
    for (let day = 0; day < 3; day++) {
      if (day) {
        clock.advanceDays(1);
        u.commit(`day ${day}`);
        u.push('main');
      }
      names.push(okValue(await b.engine.sync({ noPrune: true })).snapshot!.name);
    }
    return { u, b, clock, names, dir: (name: string) => join(b.root, 'snapshots', 'acme', 'widgets', name) };
  }

  it('verify flags a createdAt that disagrees with the name; prune keeps it and still keeps a genuine newest', async () => {
    const { b, clock, names, dir } = await threeDays();
    const [oldest, middle, newest] = names as [string, string, string];
    // The newest backup dated 1970: sorting by createdAt would make it the oldest and delete it.
    tamper(dir(newest), { createdAt: '1970-01-01T00:00:00.000Z' });

    const verify = await b.engine.verify({ all: true });
    expect(verify.exitCode).toBe(1);
    const outcome = verify.outcomes[0]!;
    expect(outcome.ok ? '' : outcome.error).toContain(`${newest}: snapshot.json: createdAt 1970-01-01T00:00:00.000Z disagrees with the snapshot's name ${newest}`);

    clock.set('2026-05-03T03:00:00Z');
    const prune = okValue(await b.engine.prune());
    const decision = (name: string) => prune.decisions.find((d) => d.name === name)!;
    expect(decision(newest)).toMatchObject({ keep: true, reason: expect.stringMatching(/disagrees with the name/) });
    expect(decision(middle)).toMatchObject({ keep: true, reason: 'newest snapshot' });
    expect(prune.removed).toEqual([oldest]);
    expect(existsSync(dir(newest))).toBe(true);
    expect(prune.warnings).toEqual([
      expect.stringMatching(new RegExp(`createdAt disagrees with the name \\(${newest}\\)`)),
      // The newest trusted snapshot is 25 h old, past the 1-day window: true, and worth saying.
      expect.stringMatching(new RegExp(`^every snapshot is older than 1 day \\(the newest, ${middle}, is 25 h old\\)`)),
    ]);

    // "latest" passes over it too: it cannot be trusted to be the newest.
    expect(okValue(await b.engine.verify()).snapshots[0]!.name).toBe(middle);
  });

  it('a snapshot taken with a clock a year ahead is never "latest": restore latest returns the newest genuine data', async () => {
    const { u, b, clock, names, dir } = await threeDays();
    const now = () => new Date(clock.now().getTime());
    const ahead = () => new Date(clock.now().getTime() + 365 * DAY);
    u.commit('taken while the clock ran a year ahead');
    u.push('main');
    const future = okValue(await b.engineWith({}, ahead).sync({ noPrune: true })).snapshot!;
    expect(future.name).toMatch(/^snapshot-2027/);

    // The clock is fixed; upstream moves on; the next snapshot sorts before the future-dated one.
    u.commit('after the clock was fixed');
    u.push('main');
    const engine = b.engineWith({}, now);
    const genuine = okValue(await engine.sync({ noPrune: true })).snapshot!;
    expect(genuine.name < future.name).toBe(true);

    const restored = join(u.tmp, 'latest.git');
    const restore = okValue(await engine.restore({ to: restored }));
    expect(restore.snapshot.name).toBe(genuine.name);
    expect(refsOf(restored)['refs/heads/main']).toBe(refsOf(u.bare)['refs/heads/main']);

    const status = okValue(await engine.status());
    expect(status.newestSnapshot).toBe(genuine.name);
    expect(status.warnings).toEqual([expect.stringMatching(new RegExp(`^clock skew: 1 snapshot\\(s\\) named in the future \\(newest ${future.name}`))]);

    const prune = okValue(await engine.prune({ retentionDays: 1, keepMin: 1 }));
    expect(prune.decisions.find((d) => d.name === future.name)).toMatchObject({ keep: true, reason: expect.stringMatching(/named in the future/) });
    expect(prune.decisions.find((d) => d.name === genuine.name)).toMatchObject({ keep: true, reason: 'newest snapshot' });
    expect(prune.warnings[0]).toMatch(/1 snapshot named in the future/);
    expect(existsSync(dir(names[2]!))).toBe(true); // within a day of now
  });

  it('no snapshot to trust as latest is a clear error, and naming one explicitly still works', async () => {
    const u = upstream();
    const b = createBackup([u], {}, () => new Date(Date.now() + 400 * DAY));
    const future = okValue(await b.engine.sync()).snapshot!;
    const today = b.engineWith({}, () => new Date());
    const latest = await today.verify();
    expect(latest.exitCode).toBe(1);
    expect(latest.outcomes[0]!.ok ? '' : latest.outcomes[0]!.error).toMatch(
      new RegExp(`no snapshot can be trusted as "latest" \\(${future.name}: named in the future .*name a snapshot explicitly`),
    );
    expect(okValue(await today.verify({ snapshot: future.name })).snapshots[0]!.ok).toBe(true);
  });

  it('prune warns when every snapshot is older than the window', async () => {
    const { b, clock } = await threeDays();
    clock.set('2026-06-20T00:00:00Z');
    const prune = okValue(await b.engine.prune({ retentionDays: 30, keepMin: 1, dryRun: true }));
    expect(prune.warnings).toEqual([expect.stringMatching(/^every snapshot is older than 30 days \(the newest, snapshot-20260503-020000, is 48 days old\)/)]);
  });
});

describe('stale means stale', () => {
  const valueOf = (result: { outcomes: Array<{ ok: boolean; value?: unknown; details?: unknown }> }) => {
    const outcome = result.outcomes[0]!;
    return (outcome.ok ? outcome.value : outcome.details) as StatusRepoResult;
  };

  it('after 40 days of failed syncs the verdict is stale and says how old the newest snapshot is', async () => {
    const u = upstream();
    const clock = fakeClock('2026-02-01T02:00:00Z', 0);
    const b = createBackup([u], {}, clock.now);
    const first = okValue(await b.engine.sync()).snapshot!;
    const moved = `${u.bare}.gone`;
    renameSync(u.bare, moved);
    clock.advanceDays(1);
    expect((await b.engine.sync()).exitCode).toBe(10); // not found
    const failing = await b.engine.health();
    expect(valueOf(failing)).toMatchObject({ health: 'failing', healthReason: expect.stringMatching(/^last sync at 2026-02-02T02:00:00.000Z failed: .*not found.*; last success 24 h ago/s) });
    clock.advanceDays(39);
    await b.engine.sync();

    const status = okValue(await b.engine.status());
    expect(status.health).toBe('stale');
    expect(status.healthReason).toMatch(
      new RegExp(`^no successful sync for 40 days \\(last success 2026-02-01T02:00:00.000Z, more than 26 h ago\\); newest snapshot ${first.name} is 40 days old; last sync at 2026-03-13T02:00:00.000Z failed: `),
    );
    expect(status.lastSuccessAgeSeconds).toBe(40 * 86_400);
    expect(status.newestSnapshotAgeSeconds).toBe(40 * 86_400);
    const health = await b.engine.health();
    expect(health.exitCode).toBe(1);
    expect(health.failed).toEqual(['acme/widgets']);
    expect(health.outcomes[0]).toMatchObject({ ok: false, exitCode: 1, error: expect.stringMatching(/^stale: no successful sync for 40 days/) });

    renameSync(moved, u.bare);
    okValue(await b.engine.sync());
    expect((await b.engine.health()).exitCode).toBe(0);
  });

  it('a failed first sync shows as failing, not as a repository nobody has set up', async () => {
    const u = upstream();
    renameSync(u.bare, `${u.bare}.gone`);
    const b = createBackup([u]);
    expect((await b.engine.sync()).exitCode).toBe(10);
    const status = okValue(await b.engine.status());
    expect(status).toMatchObject({ initialized: false, health: 'failing', healthReason: expect.stringMatching(/^first sync never succeeded: last sync at .* failed: .*not found/s) });
  });

  it('state written by a clock in the future is not trusted as fresh, and status says why', async () => {
    const u = upstream();
    const b = createBackup([u], {}, () => new Date(Date.now() + 30 * DAY));
    okValue(await b.engine.sync());
    const status = okValue(await b.engineWith({}, () => new Date()).status());
    expect(status.health).toBe('stale');
    expect(status.healthReason).toMatch(/^the last success is dated in the future \(.*\), so its age is unknown/);
    expect(status.warnings).toEqual([
      expect.stringMatching(/^clock skew: 1 snapshot\(s\) named in the future/),
      expect.stringMatching(/^clock skew: the last sync is recorded at .*, later than now/),
    ]);
  });
});
