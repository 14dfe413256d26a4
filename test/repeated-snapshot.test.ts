// When a new snapshot's copy repeats the previous snapshot (src/repeated-snapshot.ts): decided from the two
// snapshots' recorded checksums alone. test/snapshot-record.test.ts shows on real repositories that what is then
// carried over is what git says.
import { describe, expect, it } from 'vitest';
import { repeatsPrevious } from '../src/repeated-snapshot.ts';

const sum = (c: string, size = 10) => ({ sha256: c.repeat(64), size });
const PACK = 'objects/pack/pack-' + 'a'.repeat(40);
const previous = {
  config: sum('1'),
  HEAD: sum('2'),
  'packed-refs': sum('3', 300),
  [`${PACK}.pack`]: sum('4', 9000),
  [`${PACK}.idx`]: sum('5', 900),
  'github-metadata/repo.git/packed-refs': sum('6'),
};

describe('repeatsPrevious', () => {
  it('is true for the same files, and with object files added', () => {
    expect(repeatsPrevious(previous, { ...previous })).toBe(true);
    const newPack = 'objects/pack/pack-' + 'b'.repeat(40);
    expect(repeatsPrevious(previous, { ...previous, [`${newPack}.pack`]: sum('7'), ['objects/ab/' + 'c'.repeat(38)]: sum('8') })).toBe(true);
  });

  it('is false when a ref file, HEAD or any other copied file differs, is added or is gone', () => {
    expect(repeatsPrevious(previous, { ...previous, 'packed-refs': sum('9', 300) })).toBe(false);
    expect(repeatsPrevious(previous, { ...previous, HEAD: sum('2', 11) })).toBe(false);
    expect(repeatsPrevious(previous, { ...previous, 'refs/heads/loose': sum('a') })).toBe(false);
    expect(repeatsPrevious(previous, { ...previous, shallow: sum('b') })).toBe(false);
    const { 'packed-refs': _gone, ...withoutPackedRefs } = previous;
    expect(repeatsPrevious(previous, withoutPackedRefs)).toBe(false);
    expect(repeatsPrevious(withoutPackedRefs, previous)).toBe(false);
  });

  it('is false when an object file of the previous snapshot is gone or has other bytes', () => {
    const { [`${PACK}.idx`]: _gone, ...withoutIdx } = previous;
    expect(repeatsPrevious(previous, withoutIdx)).toBe(false);
    expect(repeatsPrevious(previous, { ...previous, [`${PACK}.pack`]: sum('c', 9000) })).toBe(false);
  });

  it('leaves the GitHub metadata out of the comparison', () => {
    expect(repeatsPrevious(previous, { ...previous, 'github-metadata/repo.git/packed-refs': sum('d'), ['github-metadata/assets/' + 'e'.repeat(64)]: sum('e') })).toBe(true);
  });
});
