// Which history `git lfs fetch` reads (src/lfs-scope.ts): the whole of it when the last fetch is unknown or the
// mirror lost objects since, else only the history new since the last fetch's tips, less what those tips reach.
import { describe, expect, it } from 'vitest';
import { lfsFetchArgs, lfsFetchScope, MAX_SCOPE_TIPS } from '../src/lfs-scope.ts';

const oid = (n: number) => n.toString(16).padStart(40, '0');
const all = async (tips: string[]) => tips;
const never = async (): Promise<string[]> => {
  throw new Error('no exclusions are needed to read the whole history');
};

describe('lfsFetchScope', () => {
  it('reads every ref\'s whole history when the last fetch is unknown, counted nothing, or the mirror lost objects', async () => {
    expect(await lfsFetchScope(null, [oid(1)], 0, never)).toEqual({ whole: true, why: 'no earlier LFS fetch is recorded' });
    expect(await lfsFetchScope({ tips: [oid(1)] }, [oid(2)], 3, never)).toMatchObject({ whole: true, why: expect.stringMatching(/no object count/) });
    expect(await lfsFetchScope({ tips: [oid(1)], objects: 4 }, [oid(2)], 3, never)).toMatchObject({ whole: true, why: expect.stringMatching(/^1 LFS objects went missing/) });
    expect(lfsFetchArgs({ whole: true, why: '' })).toEqual(['--all', 'origin']);
  });

  it('reads only the new tips\' history, less what the last fetch\'s tips reach (as the caller reduces them)', async () => {
    const asked: string[][] = [];
    // The caller drops a tip the mirror lost (3) and one another reaches (1).
    const reduce = async (tips: string[]) => (asked.push([...tips].sort()), tips.filter((o) => o === oid(2)));
    const scope = await lfsFetchScope({ tips: [oid(1), oid(2), oid(3)], objects: 3 }, [oid(4), oid(2), oid(5), oid(4)], 5, reduce);
    expect(asked).toEqual([[oid(1), oid(2), oid(3)]]);
    expect(scope).toEqual({ whole: false, tips: [oid(4), oid(5)], since: [oid(2)] });
    expect(lfsFetchArgs(scope)).toEqual(['--all', 'origin', oid(4), oid(5), `^${oid(2)}`]);
    // A force-push is a new tip like any other: its history up to what the old tips share is read.
    expect(await lfsFetchScope({ tips: [oid(1)], objects: 2 }, [oid(9)], 2, all)).toEqual({ whole: false, tips: [oid(9)], since: [oid(1)] });
  });

  it('no new tip (refs deleted or moved back) reads nothing; past the argument cap it reads the whole history', async () => {
    expect(await lfsFetchScope({ tips: [oid(1), oid(2)], objects: 1 }, [oid(2)], 1, never)).toEqual({ whole: false, tips: [], since: [] });
    const many = Array.from({ length: MAX_SCOPE_TIPS }, (_, i) => oid(i + 1));
    expect(await lfsFetchScope({ tips: many, objects: 1 }, [...many, oid(MAX_SCOPE_TIPS + 1)], 1, all)).toMatchObject({ whole: true, why: `${MAX_SCOPE_TIPS + 1} tips to name, over ${MAX_SCOPE_TIPS}` });
  });
});
