// Retention is a pure function: tested against hand-checked golden files (restic's style) plus the edges
// the design calls out (30-day boundary, keep-min, never the newest, in use).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.ts';
import { planRetention, retentionWarnings, type RetainedSnapshot, type RetentionPolicy } from '../src/retention.ts';
import { snapshotName } from '../src/naming.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00.000Z');

function snap(ageMs: number): RetainedSnapshot {
  const createdAt = new Date(NOW.getTime() - ageMs);
  return { name: snapshotName(createdAt), createdAt };
}

const policy = (overrides: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  retentionDays: 30,
  keepMin: 0,
  now: NOW,
  ...overrides,
});

const removed = (decisions: ReturnType<typeof planRetention>) => decisions.filter((d) => !d.keep).map((d) => d.name);

describe('planRetention golden files', () => {
  const dir = join(import.meta.dirname, 'fixtures', 'retention');
  // UPDATE_GOLDEN=1 rewrites `expected`; review the diff by hand before committing.
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    it(file, () => {
      const fixture = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        policy: { retentionDays: number; keepMin: number; now: string; inUse?: string[]; pinned?: Record<string, string> };
        snapshots: { name: string; createdAt: string }[];
        expected: unknown[];
        expectedWarnings?: string[];
      };
      const snapshots = fixture.snapshots.map((s) => ({ name: s.name, createdAt: new Date(s.createdAt) }));
      const policy: RetentionPolicy = {
        retentionDays: fixture.policy.retentionDays,
        keepMin: fixture.policy.keepMin,
        now: new Date(fixture.policy.now),
        inUse: new Set(fixture.policy.inUse ?? []),
        pinned: new Map(Object.entries(fixture.policy.pinned ?? {})),
      };
      const decisions = planRetention(snapshots, policy);
      const warnings = retentionWarnings(snapshots, policy);
      if (process.env.UPDATE_GOLDEN === '1') {
        writeFileSync(join(dir, file), `${JSON.stringify({ ...fixture, expected: decisions, expectedWarnings: warnings }, null, 2)}\n`);
      }
      expect(decisions).toEqual(fixture.expected);
      expect(warnings).toEqual(fixture.expectedWarnings ?? []);
    });
  }
});

describe('planRetention', () => {
  it('keeps a snapshot exactly retentionDays old and removes one a second older', () => {
    const exact = snap(30 * DAY);
    const older = snap(30 * DAY + 1000);
    const decisions = planRetention([snap(0), exact, older], policy());
    expect(decisions.map((d) => [d.name, d.keep, d.reason])).toEqual([
      [snap(0).name, true, 'newest snapshot'],
      [exact.name, true, 'within 30 days'],
      [older.name, false, 'older than 30 days'],
    ]);
  });

  it('keeps the keepMin newest even when all are beyond retention', () => {
    const snaps = [1, 2, 3, 4, 5].map((n) => snap((40 + n) * DAY));
    const decisions = planRetention(snaps, policy({ keepMin: 3 }));
    expect(decisions.filter((d) => d.keep)).toHaveLength(3);
    expect(decisions[1]?.reason).toBe('keep-min: 3 newest kept');
    expect(removed(decisions)).toEqual([snaps[3]!.name, snaps[4]!.name]);
  });

  it('never removes the newest snapshot, even with keepMin 0 and everything old', () => {
    const snaps = [snap(400 * DAY), snap(300 * DAY), snap(200 * DAY)];
    const decisions = planRetention(snaps, policy({ keepMin: 0, retentionDays: 0 }));
    expect(decisions[0]).toMatchObject({ name: snaps[2]!.name, keep: true, reason: 'newest snapshot' });
    expect(removed(decisions)).toEqual([snaps[1]!.name, snaps[0]!.name]);
  });

  it('never removes a snapshot in use', () => {
    const old = snap(90 * DAY);
    const decisions = planRetention([snap(0), old, snap(91 * DAY)], policy({ inUse: new Set([old.name]) }));
    expect(decisions.find((d) => d.name === old.name)).toMatchObject({ keep: true, reason: 'in use' });
    expect(removed(decisions)).toEqual([snap(91 * DAY).name]);
  });

  it('sorts unsorted input newest first and decides by the name, keeping one whose createdAt disagrees', () => {
    // An old name with a recent createdAt: one of the two was edited. It is kept, never counted toward keep-min.
    const renamed: RetainedSnapshot = { name: 'snapshot-20000101-000000', createdAt: new Date(NOW.getTime() - DAY) };
    const snaps = [snap(50 * DAY), renamed, snap(0), snap(10 * DAY)];
    const decisions = planRetention(snaps, policy());
    expect(decisions.map((d) => d.name)).toEqual([...decisions.map((d) => d.name)].sort().reverse());
    expect(decisions.find((d) => d.name === renamed.name)).toMatchObject({ keep: true, reason: expect.stringMatching(/disagrees with the name/) });
    expect(removed(decisions)).toEqual([snap(50 * DAY).name]);
  });

  it('a 2099 snapshot neither becomes the newest nor pushes a genuine one out of keep-min', () => {
    const genuine = [snap(40 * DAY), snap(41 * DAY), snap(42 * DAY)];
    const planted: RetainedSnapshot = { name: 'snapshot-20990101-000000', createdAt: new Date('2099-01-01T00:00:00Z') };
    const decisions = planRetention([planted, ...genuine], policy({ keepMin: 2 }));
    expect(decisions[0]).toMatchObject({ name: planted.name, keep: true, reason: expect.stringMatching(/named in the future/) });
    expect(decisions[1]).toMatchObject({ name: genuine[0]!.name, keep: true, reason: 'newest snapshot' });
    expect(decisions[2]).toMatchObject({ name: genuine[1]!.name, keep: true, reason: 'keep-min: 2 newest kept' });
    expect(removed(decisions)).toEqual([genuine[2]!.name]);
  });

  it('a newest snapshot whose createdAt was set to 1970 is not deleted', () => {
    const newest = snap(0);
    const decisions = planRetention([{ ...newest, createdAt: new Date(0) }, snap(40 * DAY)], policy());
    expect(decisions.find((d) => d.name === newest.name)).toMatchObject({ keep: true, createdAt: '1970-01-01T00:00:00.000Z' });
    // The older one is the newest trusted snapshot now, so it stays too: nothing is lost to a tampered time.
    expect(removed(decisions)).toEqual([]);
  });

  it('warns when every snapshot is older than the window, and not otherwise', () => {
    expect(retentionWarnings([snap(31 * DAY), snap(40 * DAY)], policy())).toEqual([expect.stringMatching(/^every snapshot is older than 30 days \(the newest, snapshot-\S+, is 31 days old\)/)]);
    expect(retentionWarnings([snap(29 * DAY), snap(40 * DAY)], policy())).toEqual([]);
    expect(retentionWarnings([], policy())).toEqual([]);
  });

  it('returns nothing for no snapshots', () => {
    expect(planRetention([], policy({ keepMin: 7 }))).toEqual([]);
  });

  it('keeps a snapshot whose recorded time is unreadable', () => {
    const decisions = planRetention([snap(0), { name: 'snapshot-x', createdAt: new Date('nope') }], policy());
    expect(decisions[1]).toMatchObject({ name: 'snapshot-x', keep: true, reason: 'creation time unknown' });
  });

  it('rejects an invalid policy with a usage error', () => {
    for (const bad of [
      { retentionDays: -1 },
      { retentionDays: Number.NaN },
      { retentionDays: Number.POSITIVE_INFINITY },
      { keepMin: -1 },
      { keepMin: 1.5 },
      { keepMin: Number.NaN },
      { now: new Date('garbage') },
    ]) {
      expect(() => planRetention([snap(0)], policy(bad)), JSON.stringify(bad)).toThrow(UsageError);
    }
  });
});
