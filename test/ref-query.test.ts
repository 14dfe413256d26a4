import { describe, expect, it } from 'vitest';
import { classifyRefs, globToRegExp, parseFindQuery, refMatches } from '../src/ref-query.ts';

describe('find queries', () => {
  it('tells a commit from a ref name from a pattern', () => {
    expect(parseFindQuery('ABC1234')).toEqual({ kind: 'commit', prefix: 'abc1234' });
    expect(parseFindQuery('abc123')).toEqual({ kind: 'ref', name: 'abc123' });
    expect(parseFindQuery('feature/x')).toEqual({ kind: 'ref', name: 'feature/x' });
    expect(parseFindQuery('feature/*').kind).toBe('pattern');
    expect(() => parseFindQuery('a\nb')).toThrow(/find: expected/);
    expect(() => parseFindQuery('')).toThrow();
  });

  it('globs: * within a segment, ** across, ? one character, [...] a class; nothing else is special', () => {
    expect(globToRegExp('feature/*').test('feature/a')).toBe(true);
    expect(globToRegExp('feature/*').test('feature/a/b')).toBe(false);
    expect(globToRegExp('**/wip').test('a/b/wip')).toBe(true);
    expect(globToRegExp('v1.?').test('v1.2')).toBe(true);
    expect(globToRegExp('v1.?').test('v1x2')).toBe(false);
    expect(globToRegExp('v[12]').test('v2')).toBe(true);
    expect(globToRegExp('v[!1]').test('v1')).toBe(false);
    expect(globToRegExp('a+(b)').test('a+(b)')).toBe(true);
  });

  it('matches full and short ref names', () => {
    const q = parseFindQuery('main');
    if (q.kind === 'commit') throw new Error('expected a ref');
    expect(refMatches('refs/heads/main', q)).toBe(true);
    expect(refMatches('refs/tags/main', q)).toBe(true);
    expect(refMatches('refs/heads/mainline', q)).toBe(false);
    const full = parseFindQuery('refs/heads/main');
    if (full.kind === 'commit') throw new Error('expected a ref');
    expect(refMatches('refs/heads/main', full)).toBe(true);
  });

  it('classifies refs between two maps', () => {
    const a = '1'.repeat(40);
    const b = '2'.repeat(40);
    const c = '3'.repeat(40);
    const diff = classifyRefs({ 'refs/heads/x': a, 'refs/heads/y': a, 'refs/heads/gone': a, 'refs/tags/t': a }, { 'refs/heads/x': b, 'refs/heads/y': c, 'refs/heads/new': c, 'refs/tags/t': a }, new Set(['refs/heads/x']));
    expect(diff).toEqual({
      added: [{ ref: 'refs/heads/new', to: c }],
      deleted: [{ ref: 'refs/heads/gone', from: a }],
      moved: [{ ref: 'refs/heads/x', from: a, to: b }],
      forceMoved: [{ ref: 'refs/heads/y', from: a, to: c }],
      unfetched: [],
      unchanged: 1,
    });
    // A move whose new commit could not be asked about is neither a fast-forward nor a rewrite.
    const unknown = classifyRefs({ 'refs/heads/x': a, 'refs/heads/y': a }, { 'refs/heads/x': b, 'refs/heads/y': c }, new Set(['refs/heads/x']), new Set(['refs/heads/y']));
    expect(unknown).toMatchObject({ moved: [{ ref: 'refs/heads/x' }], forceMoved: [], unfetched: [{ ref: 'refs/heads/y', from: a, to: c }] });
  });
});
