// The store's retention policy is a pure function: hand-checked golden files (restic's style), plus the edges.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.ts';
import { isoWeek, planStoreRetention, resolveStorePolicy, type StoreRetentionPolicy } from '../src/store/policy.ts';

describe('planStoreRetention golden files', () => {
  const dir = join(import.meta.dirname, 'fixtures', 'store-retention');
  // UPDATE_GOLDEN=1 rewrites `expected`; review the diff by hand before committing.
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    it(file, () => {
      const fixture = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        policy: Omit<StoreRetentionPolicy, 'now'> & { now: string };
        snapshots: { name: string; createdAt: string }[];
        expected: unknown[];
      };
      const decisions = planStoreRetention(
        fixture.snapshots.map((s) => ({ name: s.name, createdAt: new Date(s.createdAt) })),
        { ...fixture.policy, now: new Date(fixture.policy.now) },
      );
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(join(dir, file), `${JSON.stringify({ ...fixture, expected: decisions }, null, 2)}\n`);
      expect(decisions).toEqual(fixture.expected);
    });
  }
});

const NOW = new Date('2026-03-01T12:00:00Z');
const policy = (p: Partial<StoreRetentionPolicy> = {}): StoreRetentionPolicy => ({ days: 30, weekly: 0, monthly: 0, yearly: 0, keepMin: 0, now: NOW, ...p });

describe('planStoreRetention', () => {
  it('never forgets the newest snapshot, even with every rule at zero', () => {
    const snaps = [400, 300].map((d) => ({ name: `s${d}`, createdAt: new Date(NOW.getTime() - d * 86_400_000) }));
    const decisions = planStoreRetention(snaps, policy({ days: 0 }));
    expect(decisions.map((d) => [d.name, d.keep])).toEqual([
      ['s300', true],
      ['s400', false],
    ]);
  });

  it('keeps a snapshot with an unknown time', () => {
    const decisions = planStoreRetention([{ name: 'x', createdAt: new Date('nope') }], policy());
    expect(decisions).toEqual([{ name: 'x', createdAt: 'invalid', keep: true, reasons: ['creation time unknown'] }]);
  });

  it('rejects a negative or fractional count', () => {
    expect(() => planStoreRetention([], policy({ weekly: -1 }))).toThrow(UsageError);
    expect(() => planStoreRetention([], policy({ monthly: 1.5 }))).toThrow(UsageError);
  });

  it('falls back to the local policy for unset fields', () => {
    expect(resolveStorePolicy(undefined, { retentionDays: 30, keepMin: 3 }, NOW)).toEqual(policy({ keepMin: 3 }));
    expect(resolveStorePolicy({ monthly: 12 }, { retentionDays: 30, keepMin: 0 }, NOW)).toEqual(policy({ monthly: 12 }));
    expect(resolveStorePolicy({ days: 90, yearly: 5 }, { retentionDays: 30, keepMin: 0 }, NOW)).toEqual(policy({ days: 90, yearly: 5 }));
  });

  it('names ISO weeks like ISO 8601', () => {
    expect(isoWeek(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01'); // a Thursday
    expect(isoWeek(new Date('2027-01-03T23:59:59Z'))).toBe('2026-W53'); // Sunday after a Thursday new year's eve week
    expect(isoWeek(new Date('2027-01-04T00:00:00Z'))).toBe('2027-W01');
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
  });
});
