// Snapshot names are the only index of a repository's history on disk: they must round-trip exactly, sort by
// time, and refuse anything a user could type to escape a directory.
import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../src/errors.ts';
import {
  assertRepoId,
  assertSnapshotName,
  isSnapshotName,
  isValidOwner,
  isValidRepoName,
  logFileName,
  MAX_SNAPSHOTS_PER_SECOND,
  parseSnapshotTime,
  snapshotName,
  snapshotNameInSecond,
} from '../src/naming.ts';

function usageErrorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.USAGE);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('snapshot names', () => {
  it('encode UTC time to the second and round-trip', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const name = snapshotName(at);
    expect(name).toBe('snapshot-20260102-030405');
    // Milliseconds are dropped, nothing else.
    expect(parseSnapshotTime(name)?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(isSnapshotName(name)).toBe(true);
  });

  it('round-trips across year, leap-day and end-of-day edges', () => {
    for (const iso of ['1999-12-31T23:59:59Z', '2000-01-01T00:00:00Z', '2028-02-29T12:00:00Z', '2026-12-31T23:59:59Z']) {
      const at = new Date(iso);
      expect(parseSnapshotTime(snapshotName(at))?.getTime()).toBe(at.getTime());
    }
  });

  it('uses UTC regardless of the local time zone', () => {
    // Node applies a TZ change at once: a name built from local time would say Jan 1 here.
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      expect(new Date('2025-12-31T23:30:00Z').getDate()).toBe(1); // the zone really is in effect
      expect(snapshotName(new Date('2025-12-31T23:30:00Z'))).toBe('snapshot-20251231-233000');
      expect(parseSnapshotTime('snapshot-20251231-233000')?.toISOString()).toBe('2025-12-31T23:30:00.000Z');
      expect(logFileName(new Date('2025-12-31T23:30:00Z'))).toBe('backup-20251231.log');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('sort lexically in time order', () => {
    const times = ['2026-03-01T00:00:00Z', '2025-12-31T23:59:59Z', '2026-03-01T00:00:01Z', '2026-02-28T10:00:00Z'];
    const names = times.map((t) => snapshotName(new Date(t)));
    const byName = [...names].sort();
    const byTime = [...times].sort((a, b) => Date.parse(a) - Date.parse(b)).map((t) => snapshotName(new Date(t)));
    expect(byName).toEqual(byTime);
  });

  it('name a second and later snapshot within one second with a fixed-width suffix that sorts after its base', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(snapshotNameInSecond(at, 0)).toBe('snapshot-20260102-030405');
    expect(snapshotNameInSecond(at, 1)).toBe('snapshot-20260102-030405-001');
    expect(snapshotNameInSecond(at, 999)).toBe('snapshot-20260102-030405-999');
    expect(() => snapshotNameInSecond(at, MAX_SNAPSHOTS_PER_SECOND)).toThrow(RangeError);
    expect(parseSnapshotTime('snapshot-20260102-030405-012')?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    const names = [
      snapshotNameInSecond(new Date('2026-01-02T03:04:06Z'), 0),
      snapshotNameInSecond(at, 10),
      snapshotNameInSecond(at, 2),
      snapshotNameInSecond(at, 0),
      snapshotNameInSecond(new Date('2026-01-02T03:04:04Z'), 5),
    ];
    expect([...names].sort()).toEqual([names[4], names[3], names[2], names[1], names[0]]);
    expect(assertSnapshotName('snapshot-20260102-030405-001')).toBe('snapshot-20260102-030405-001');
  });

  it.each([
    'snapshot-20260101-000000-000', // the first of a second is the base name
    'snapshot-20260101-000000-01',
    'snapshot-20260101-000000-0001',
    'snapshot-20260101-000000-abc',
    'snapshot-20260101-000000-',
    'snapshot-20261332-000000', // month 13, day 32
    'snapshot-20260230-000000', // Feb 30 would silently roll to March
    'snapshot-20250229-000000', // not a leap year
    'snapshot-20260101-240000',
    'snapshot-20260101-006000',
    'snapshot-20260101-000060',
    'snapshot-20260101-00000',
    'snapshot-20260101-0000000',
    'snapshot-2026010-1000000',
    'Snapshot-20260101-000000',
    ' snapshot-20260101-000000',
    'snapshot-20260101-000000\n',
    'snapshot-20260101-000000/..',
    'latest',
    '',
  ])('rejects %j', (name) => {
    expect(isSnapshotName(name)).toBe(false);
    expect(parseSnapshotTime(name)).toBeUndefined();
  });

  it.each(['..', '../../etc', '/etc', '/etc/passwd', 'snapshot-20260101-000000/../../x', '-rf', 'latest'])(
    'assertSnapshotName(%j) is a usage error (exit 2)',
    (name) => {
      expect(usageErrorOf(() => assertSnapshotName(name)).message).toContain(JSON.stringify(name));
    },
  );

  it('assertSnapshotName returns a valid name unchanged', () => {
    expect(assertSnapshotName('snapshot-20260102-030405')).toBe('snapshot-20260102-030405');
  });
});

describe('repository names', () => {
  it('accepts GitHub-shaped owners and names', () => {
    expect(isValidOwner('acme')).toBe(true);
    expect(isValidOwner('a-b-9')).toBe(true);
    expect(isValidOwner('a'.repeat(39))).toBe(true);
    expect(isValidRepoName('widgets')).toBe(true);
    expect(isValidRepoName('my.repo_name-2')).toBe(true);
    expect(isValidRepoName('.github')).toBe(true);
  });

  it.each(['', '-acme', 'a'.repeat(40), 'ac/me', '..', '.', 'ac me', 'acme\0', 'é'])('rejects owner %j', (owner) => {
    expect(isValidOwner(owner)).toBe(false);
  });

  it.each(['', '.', '..', '-rf', 'a/b', 'x.git', 'a'.repeat(101), 'name\n', 'na me', '../etc'])('rejects repository name %j', (name) => {
    expect(isValidRepoName(name)).toBe(false);
  });

  it('assertRepoId names the bad part, with exit code 2', () => {
    expect(usageErrorOf(() => assertRepoId('..', 'widgets')).message).toMatch(/owner "\.\."/);
    expect(usageErrorOf(() => assertRepoId('acme', '..')).message).toMatch(/name "\.\."/);
    expect(usageErrorOf(() => assertRepoId('/etc', 'passwd')).message).toMatch(/owner/);
    expect(() => assertRepoId('acme', 'widgets')).not.toThrow();
  });
});

describe('log file names', () => {
  it('are one per UTC day', () => {
    expect(logFileName(new Date('2026-07-04T23:59:59Z'))).toBe('backup-20260704.log');
    expect(logFileName(new Date('2026-07-05T00:00:00Z'))).toBe('backup-20260705.log');
  });
});
