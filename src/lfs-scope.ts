// Which history `git lfs fetch` reads (docs/OPERATIONS.md "LFS objects"): every ref's whole history (`--all`), or
// only the history new since the last successful fetch, `--all origin <new tips> ^<old tips>`, which git-lfs hands
// to `git rev-list` as it is. The objects of the old history are in the mirror already (that fetch succeeded, and
// none has gone since), so the new history's are all that can be missing; a force-push is new history like any
// other. No I/O of its own: the caller says what the mirror holds and which of the last tips are worth excluding.

/**
 * More tips than this and the whole history is read instead: git-lfs runs one `git rev-parse` per argument (about
 * 2 ms each), so past this the arguments cost about what a whole scan of a large history does (bench/lfs-bench.mjs).
 */
export const MAX_SCOPE_TIPS = 500;

export interface LastLfsFetch {
  /** The ref tips that fetch read. */
  tips: readonly string[];
  /** LFS objects in the mirror after it; absent in states written before they were counted. */
  objects?: number;
}

export type LfsFetchScope =
  | { whole: true; why: string }
  /** `tips` empty: no tip is new (refs deleted, or moved back to a tip already read), nothing to fetch. */
  | { whole: false; tips: string[]; since: string[] };

/**
 * `tips`: every ref's tip now. `present`: LFS objects in the mirror now. `exclude(lastTips)`: what to exclude for the
 * last fetch's tips: those the mirror still holds (a tip gone cannot be excluded; its history is read again), less
 * those another one reaches (excluding them changes nothing).
 */
export async function lfsFetchScope(last: LastLfsFetch | null, tips: readonly string[], present: number, exclude: (lastTips: string[]) => Promise<string[]>): Promise<LfsFetchScope> {
  if (!last) return { whole: true, why: 'no earlier LFS fetch is recorded' };
  if (last.objects === undefined) return { whole: true, why: 'the earlier LFS fetch recorded no object count' };
  if (present < last.objects) return { whole: true, why: `${last.objects - present} LFS objects went missing from the mirror since the last fetch` };
  const before = new Set(last.tips);
  const fresh = [...new Set(tips)].filter((oid) => !before.has(oid)).sort();
  if (!fresh.length) return { whole: false, tips: [], since: [] };
  const since = [...new Set(await exclude([...before]))].sort();
  if (fresh.length + since.length > MAX_SCOPE_TIPS) return { whole: true, why: `${fresh.length + since.length} tips to name, over ${MAX_SCOPE_TIPS}` };
  return { whole: false, tips: fresh, since };
}

/** The arguments of `git lfs fetch` after `fetch` for a scope that reads something. */
export function lfsFetchArgs(scope: LfsFetchScope): string[] {
  return scope.whole ? ['--all', 'origin'] : ['--all', 'origin', ...scope.tips, ...scope.since.map((oid) => `^${oid}`)];
}
