// The one line status and list print about a snapshot's GitHub metadata (src/github-metadata/describe.ts): counts per
// kind, what was skipped and why, which kinds failed or stopped early and why, which are off.
import { describe, expect, it } from 'vitest';
import { describeMetadata } from '../src/github-metadata/describe.ts';
import type { SnapshotMetadataSummary } from '../src/github-metadata/format.ts';

const summary = (kinds: SnapshotMetadataSummary['kinds']): SnapshotMetadataSummary => ({
  commit: 'a'.repeat(40),
  capturedAt: '2026-01-01T02:00:00Z',
  kinds,
  assets: { files: 0, bytes: 0 },
});

describe('describeMetadata', () => {
  it('counts per kind in a fixed order, with skipped assets grouped by reason and failures with their reason', () => {
    const line = describeMetadata(
      summary({
        releases: { state: 'complete', count: 3, skipped: [{ what: 'v1/a.iso', reason: 'over 100 MiB' }, { what: 'v2/b.iso', reason: 'over 100 MiB' }] },
        pulls: { state: 'failed', count: 12, reason: 'HTTP 403: Resource not accessible by integration' },
        issues: { state: 'complete', count: 41 },
        settings: { state: 'complete', count: 1 },
      }),
    );
    expect(line).toBe('41 issues, 12 pulls, 3 releases (2 assets skipped: over 100 MiB); pulls failed: HTTP 403: Resource not accessible by integration');
  });

  it('names several skip reasons, a kind that stopped early, and the kinds that are off', () => {
    const line = describeMetadata(
      summary({
        issues: { state: 'partial', count: 5000, reason: 'rate-limit budget spent; resumes next run' },
        releases: { state: 'complete', count: 2, skipped: [{ what: 'a', reason: 'over 100 MiB' }, { what: 'b', reason: 'HTTP 404' }, { what: 'c', reason: 'over 100 MiB' }] },
        commitComments: { state: 'complete', count: 0 },
        pulls: { state: 'disabled', count: 0 },
        settings: { state: 'failed', count: 0, reason: 'HTTP 451: unavailable for legal reasons' },
      }),
    );
    expect(line).toBe(
      '5000 issues, 0 commit comments, 2 releases (3 assets skipped: 2 over 100 MiB, 1 HTTP 404); ' +
        'settings failed: HTTP 451: unavailable for legal reasons; issues partial: rate-limit budget spent; resumes next run; off: pulls',
    );
  });

  it('says so when nothing was counted', () => {
    expect(describeMetadata(summary({}))).toBe('no records');
  });
});
