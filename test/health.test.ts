// The health verdict and the trust in snapshot times are pure (src/health.ts, src/snapshot-time.ts): every row of
// docs/OPERATIONS.md "Status and health" and "Time and clock skew", at its edges.
import { describe, expect, it } from 'vitest';
import type { RepoState } from '../src/engine/state.ts';
import { HEALTHY_WITHIN_MS, healthOf, type HealthInput } from '../src/health.ts';
import { CLOCK_SKEW_TOLERANCE_MS, isFutureDated, newestTrusted, timeAgreesWithName } from '../src/snapshot-time.ts';

const NOW = new Date('2026-06-10T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const H = 3_600_000;

function state(lastSync: { at: string; ok: boolean; error?: string; absent?: string } | null, lastSuccess: string | null): RepoState {
  return { repository: 'acme/widgets', sourceUrl: 'https://github.com/acme/widgets.git', lastSync, lastSuccess };
}

const input = (overrides: Partial<HealthInput>): HealthInput => ({
  initialized: true,
  state: null,
  newestSnapshot: 'snapshot-20260610-020000',
  futureSnapshots: [],
  now: NOW,
  ...overrides,
});

describe('healthOf', () => {
  it('healthy up to 26 h after a success, stale a minute later', () => {
    const at = ago(HEALTHY_WITHIN_MS);
    expect(healthOf(input({ state: state({ at, ok: true }, at) })).health).toBe('healthy');
    const late = ago(HEALTHY_WITHIN_MS + 60_000);
    expect(healthOf(input({ state: state({ at: late, ok: true }, late) }))).toMatchObject({ health: 'stale', lastSuccessAgeSeconds: 26 * 3600 + 60 });
  });

  it('nothing upstream to back up (a wiki GitHub does not have): healthy while that answer is fresh, stale after', () => {
    const absent = 'GitHub has no wiki for acme/widgets';
    const fresh = healthOf(input({ initialized: false, newestSnapshot: null, state: state({ at: ago(H), ok: true, absent }, ago(H)) }));
    expect(fresh).toMatchObject({ health: 'healthy', reason: expect.stringMatching(/^GitHub has no wiki for acme\/widgets at the last sync .*: nothing to back up$/) });
    const old = ago(HEALTHY_WITHIN_MS + 60_000);
    expect(healthOf(input({ initialized: false, newestSnapshot: null, state: state({ at: old, ok: true, absent }, old) })).health).toBe('stale');
    // One that had pages before keeps its snapshots, and says they are from before.
    const gone = healthOf(input({ state: state({ at: ago(H), ok: true, absent }, ago(H)) }));
    expect(gone).toMatchObject({ health: 'healthy', reason: expect.stringMatching(/no wiki .*; newest snapshot snapshot-20260610-020000 is 10 h old, kept from before$/) });
  });

  it('failing while the last success is recent; stale, with the failure, once it is not', () => {
    const recent = healthOf(input({ state: state({ at: ago(H), ok: false, error: 'boom' }, ago(2 * H)) }));
    expect(recent).toMatchObject({ health: 'failing', reason: expect.stringMatching(/failed: boom; last success 2 h ago; newest snapshot snapshot-20260610-020000 is 10 h old$/) });
    const old = healthOf(input({ state: state({ at: ago(H), ok: false, error: 'boom' }, ago(41 * 24 * H)) }));
    expect(old.health).toBe('stale');
    expect(old.reason).toMatch(/^no successful sync for 41 days .*; last sync at .* failed: boom$/);
  });

  it('a failed first sync is failing; no mirror and no attempt is uninitialized; a mirror never synced is stale', () => {
    expect(healthOf(input({ initialized: false, state: state({ at: ago(H), ok: false, error: 'auth' }, null) })).health).toBe('failing');
    expect(healthOf(input({ initialized: false, newestSnapshot: null })).health).toBe('uninitialized');
    expect(healthOf(input({ state: null })).health).toBe('stale');
    expect(healthOf(input({ state: state({ at: ago(H), ok: false }, null) })).reason).toMatch(/^never synced successfully/);
  });

  it('a success recorded in the future is no evidence of freshness, and is reported as clock skew', () => {
    const future = new Date(NOW.getTime() + 365 * 24 * H).toISOString();
    const verdict = healthOf(input({ state: state({ at: future, ok: true }, future), futureSnapshots: ['snapshot-20270610-020000'] }));
    expect(verdict).toMatchObject({ health: 'stale', lastSuccessAgeSeconds: null });
    expect(verdict.warnings).toEqual([
      expect.stringMatching(/^clock skew: 1 snapshot\(s\) named in the future \(newest snapshot-20270610-020000/),
      expect.stringMatching(/^clock skew: the last sync is recorded at 2027-/),
    ]);
  });
});

describe('snapshot times', () => {
  it('a name up to the tolerance ahead of the clock is trusted, beyond it is future-dated', () => {
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    const name = (d: Date) => `snapshot-${d.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
    expect(isFutureDated(name(at(CLOCK_SKEW_TOLERANCE_MS)), NOW)).toBe(false);
    expect(isFutureDated(name(at(CLOCK_SKEW_TOLERANCE_MS + 1000)), NOW)).toBe(true);
    expect(newestTrusted(['snapshot-20260601-000000', 'snapshot-20260609-000000', 'snapshot-20990101-000000'], NOW)).toBe('snapshot-20260609-000000');
    expect(newestTrusted(['snapshot-20990101-000000'], NOW)).toBeUndefined();
  });

  it('createdAt agrees with a name when it falls within the named second, suffix or not', () => {
    expect(timeAgreesWithName('snapshot-20260610-020000', new Date('2026-06-10T02:00:00.000Z'))).toBe(true);
    expect(timeAgreesWithName('snapshot-20260610-020000-003', new Date('2026-06-10T02:00:00.999Z'))).toBe(true);
    expect(timeAgreesWithName('snapshot-20260610-020000', new Date('2026-06-10T02:00:01.000Z'))).toBe(false);
    expect(timeAgreesWithName('snapshot-20260610-020000', new Date('2026-06-10T01:59:59.999Z'))).toBe(false);
    expect(timeAgreesWithName('snapshot-20260610-020000', new Date('nonsense'))).toBe(false);
    expect(timeAgreesWithName('not-a-snapshot', new Date('2026-06-10T02:00:00.000Z'))).toBe(false);
  });
});
