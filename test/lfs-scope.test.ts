// Which history `git lfs fetch` reads (src/lfs-scope.ts): the whole of it when the last fetch is unknown or the
// mirror lost objects since, else only the history new since the last fetch's tips, less the tips the mirror lost.
import { describe, expect, it } from 'vitest';
import { lfsFetchArgs, lfsFetchScope, MAX_SCOPE_TIPS } from '../src/lfs-scope.ts';

const oid = (n: number) => n.toString(16).padStart(40, '0');
const held = () => true;

describe('lfsFetchScope', () => {
  it('reads every ref\'s whole history when the last fetch is unknown, counted nothing, or the mirror lost objects', () => {
    expect(lfsFetchScope(null, [oid(1)], 0, held)).toEqual({ whole: true, why: 'no earlier LFS fetch is recorded' });
    expect(lfsFetchScope({ tips: [oid(1)] }, [oid(2)], 3, held)).toMatchObject({ whole: true, why: expect.stringMatching(/no object count/) });
    expect(lfsFetchScope({ tips: [oid(1)], objects: 4 }, [oid(2)], 3, held)).toMatchObject({ whole: true, why: expect.stringMatching(/^1 LFS objects went missing/) });
    expect(lfsFetchArgs({ whole: true, why: '' })).toEqual(['--all', 'origin']);
  });

  it('reads only the new tips\' history, less every tip of the last fetch the mirror still holds', () => {
    const scope = lfsFetchScope({ tips: [oid(1), oid(2), oid(3)], objects: 3 }, [oid(4), oid(2), oid(5), oid(4)], 5, (o) => o !== oid(3));
    expect(scope).toEqual({ whole: false, tips: [oid(4), oid(5)], since: [oid(1), oid(2)] });
    expect(lfsFetchArgs(scope)).toEqual(['--all', 'origin', oid(4), oid(5), `^${oid(1)}`, `^${oid(2)}`]);
    // A force-push is a new tip like any other: its history up to what the old tips share is read.
    expect(lfsFetchScope({ tips: [oid(1)], objects: 2 }, [oid(9)], 2, held)).toEqual({ whole: false, tips: [oid(9)], since: [oid(1)] });
  });

  it('no new tip (refs deleted or moved back) reads nothing; past the argument cap it reads the whole history', () => {
    expect(lfsFetchScope({ tips: [oid(1), oid(2)], objects: 1 }, [oid(2)], 1, held)).toEqual({ whole: false, tips: [], since: [] });
    const many = Array.from({ length: MAX_SCOPE_TIPS }, (_, i) => oid(i + 1));
    expect(lfsFetchScope({ tips: many, objects: 1 }, [...many, oid(MAX_SCOPE_TIPS + 1)], 1, held)).toMatchObject({ whole: true, why: `${MAX_SCOPE_TIPS + 1} tips to name, over ${MAX_SCOPE_TIPS}` });
  });
});
