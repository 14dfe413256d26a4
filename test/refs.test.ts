// What sync reports (added / updated / force-updated / deleted) and when it refuses (a wiped upstream) are decided
// by these pure functions over ref maps.
import { describe, expect, it } from 'vitest';
import { changeCount, diffRefs, hasDirectoryConflict, isBackedUpRef, movedRefs, refKeyFromBytes, refKeyToBytes, sameRefs, STAGING_PREFIX, suspiciousRefLoss, type RefMap } from '../src/refs.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function refs(n: number, prefix = 'refs/heads/b'): RefMap {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${String(i).padStart(3, '0')}`, A]));
}

describe('isBackedUpRef', () => {
  it.each([
    ['refs/heads/main', false, true],
    ['refs/tags/v1.0', false, true],
    ['refs/notes/commits', false, true],
    ['refs/pull/1/head', false, false],
    ['refs/pull/1/merge', true, true],
    ['HEAD', true, false],
    ['refs', false, false],
    ['refs/pullrequest-like', false, true],
  ])('%s (includePullRefs=%s) -> %s', (name, includePull, expected) => {
    expect(isBackedUpRef(name, includePull)).toBe(expected);
  });
});

describe('movedRefs', () => {
  it('lists only refs present on both sides with a new target', () => {
    const before = { 'refs/heads/main': A, 'refs/heads/gone': A, 'refs/tags/v1': B };
    const after = { 'refs/heads/main': B, 'refs/heads/new': C, 'refs/tags/v1': B };
    expect(movedRefs(before, after)).toEqual([{ ref: 'refs/heads/main', from: A, to: B }]);
  });

  it('is empty for identical or disjoint maps', () => {
    expect(movedRefs({ 'refs/heads/x': A }, { 'refs/heads/x': A })).toEqual([]);
    expect(movedRefs({ 'refs/heads/x': A }, { 'refs/heads/y': B })).toEqual([]);
  });
});

describe('diffRefs', () => {
  it('classifies every kind of change, sorted', () => {
    const before = { 'refs/heads/main': A, 'refs/heads/rewritten': A, 'refs/heads/z-deleted': A, 'refs/heads/a-deleted': B, 'refs/tags/same': C };
    const after = { 'refs/heads/main': B, 'refs/heads/rewritten': C, 'refs/tags/same': C, 'refs/heads/y-new': A, 'refs/heads/b-new': A };
    const changes = diffRefs(before, after, new Set(['refs/heads/main']));
    expect(changes).toEqual({
      added: ['refs/heads/b-new', 'refs/heads/y-new'],
      updated: ['refs/heads/main'],
      forceUpdated: ['refs/heads/rewritten'],
      deleted: ['refs/heads/a-deleted', 'refs/heads/z-deleted'],
    });
    expect(changeCount(changes)).toBe(6);
  });

  it('treats a moved ref not known to be a fast-forward as forced (the safe assumption)', () => {
    expect(diffRefs({ 'refs/tags/v1': A }, { 'refs/tags/v1': B }, new Set()).forceUpdated).toEqual(['refs/tags/v1']);
  });

  it('ignores fastForwarded entries for refs that did not move', () => {
    const changes = diffRefs({ 'refs/heads/main': A }, { 'refs/heads/main': A }, new Set(['refs/heads/main']));
    expect(changeCount(changes)).toBe(0);
  });

  it('reports a first fetch as all added and a wipe as all deleted', () => {
    expect(diffRefs({}, refs(3), new Set()).added).toHaveLength(3);
    expect(diffRefs(refs(3), {}, new Set()).deleted).toHaveLength(3);
  });

  it('handles ref names that are not valid JavaScript identifiers or are prototype keys', () => {
    const before = { 'refs/heads/constructor': A, 'refs/heads/__proto__x': A };
    const after = { 'refs/heads/constructor': B, 'refs/heads/__proto__x': A, 'refs/heads/toString': A };
    expect(diffRefs(before, after, new Set())).toEqual({ added: ['refs/heads/toString'], updated: [], forceUpdated: ['refs/heads/constructor'], deleted: [] });
  });
});

describe('sameRefs', () => {
  it('compares names and targets, not order', () => {
    expect(sameRefs({ x: A, y: B }, { y: B, x: A })).toBe(true);
    expect(sameRefs({ x: A }, { x: B })).toBe(false);
    expect(sameRefs({ x: A }, { x: A, y: B })).toBe(false);
    expect(sameRefs({ x: A, y: B }, { x: A, z: B })).toBe(false);
    expect(sameRefs({}, {})).toBe(true);
  });
});

describe('suspiciousRefLoss', () => {
  it('never objects to a first fetch or to an empty mirror', () => {
    expect(suspiciousRefLoss({}, {})).toBeNull();
    expect(suspiciousRefLoss({}, refs(50))).toBeNull();
  });

  it('objects when upstream has no refs at all, even for a one-ref mirror', () => {
    expect(suspiciousRefLoss(refs(1), {})).toBe('upstream has no refs at all (the mirror has 1)');
  });

  it('objects when a sizeable set loses more than half', () => {
    const mirror = refs(10);
    const upstream = Object.fromEntries(Object.entries(mirror).slice(0, 4));
    expect(suspiciousRefLoss(mirror, upstream)).toBe('upstream lost 6 of 10 refs');
  });

  it('accepts losing exactly half (tidying up branches is normal)', () => {
    const mirror = refs(10);
    expect(suspiciousRefLoss(mirror, Object.fromEntries(Object.entries(mirror).slice(0, 5)))).toBeNull();
  });

  it('accepts losing most of a small set (a repository with a few branches merges and deletes them)', () => {
    const mirror = refs(9);
    expect(suspiciousRefLoss(mirror, { 'refs/heads/b000': A })).toBeNull();
  });

  it('counts renamed refs as lost: a replaced repository with new names is suspicious too', () => {
    expect(suspiciousRefLoss(refs(20), refs(20, 'refs/heads/other'))).toBe('upstream lost 20 of 20 refs');
  });

  it('ignores refs that moved rather than vanished', () => {
    const mirror = refs(20);
    const moved = Object.fromEntries(Object.keys(mirror).map((k) => [k, B]));
    expect(suspiciousRefLoss(mirror, moved)).toBeNull();
  });
});

describe('ref keys: ref names kept losslessly', () => {
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

  it.each([
    ['plain ASCII', bytes('refs/heads/main'), 'refs/heads/main'],
    ['valid UTF-8 stays text', bytes('refs/heads/café-☕-😀'), 'refs/heads/café-☕-😀'],
    ['invalid bytes are escaped one by one', bytes('refs/heads/bad-', [0xff, 0xfe]), 'refs/heads/bad-\\xff\\xfe'],
    ['a truncated sequence before valid text', bytes('refs/heads/x', [0xe2, 0x82], 'A'), 'refs/heads/x\\xe2\\x82A'],
    ['an overlong encoding is not UTF-8', bytes('refs/heads/', [0xc0, 0xaf]), 'refs/heads/\\xc0\\xaf'],
    ['an encoded surrogate is not UTF-8', bytes('refs/heads/', [0xed, 0xa0, 0x80]), 'refs/heads/\\xed\\xa0\\x80'],
    ['a backslash (never in a git ref) is escaped too', bytes('refs/heads/a\\b', [0xff]), 'refs/heads/a\\x5cb\\xff'],
  ])('%s', (_what, raw, key) => {
    expect(refKeyFromBytes(raw)).toBe(key);
    expect(refKeyToBytes(key).equals(raw)).toBe(true);
  });

  it('round-trips any bytes, and different names never share a key', () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const raw = Buffer.from(Array.from({ length: 1 + (i % 9) }, (_, j) => (i * 131 + j * 977) % 256));
      const key = refKeyFromBytes(raw);
      expect(refKeyToBytes(key).equals(raw)).toBe(true);
      const hex = raw.toString('hex');
      expect(seen.get(key) ?? hex).toBe(hex);
      seen.set(key, hex);
    }
    expect(refKeyFromBytes(bytes('refs/heads/bad-', [0xff, 0xfe]))).not.toBe(refKeyFromBytes(bytes('refs/heads/bad-', [0xff, 0xfd])));
  });

  it('the staging namespace is never a backed-up ref', () => {
    expect(isBackedUpRef(`${STAGING_PREFIX}0123abcd/refs/heads/main`, true)).toBe(false);
    expect(suspiciousRefLoss(refs(12), {}, 'snapshot snapshot-20260101-000000')).toBe('upstream has no refs at all (snapshot snapshot-20260101-000000 has 12)');
  });
});

describe('hasDirectoryConflict', () => {
  it.each([
    [['refs/heads/a'], ['refs/heads/a/b'], true],
    [['refs/heads/a/b/c'], ['refs/heads/a'], true],
    [['refs/heads/a'], ['refs/heads/ab'], false],
    [['refs/heads/a/b'], ['refs/heads/a/c'], false],
    [['refs/heads/x'], [], false],
  ])('create %j, delete %j -> %s', (created, deleted, expected) => {
    expect(hasDirectoryConflict(created, deleted)).toBe(expected);
  });
});
