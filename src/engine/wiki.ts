// Wiki companions in the engine (docs/OPERATIONS.md "The wiki"). GitHub answers "not found" for the wiki of a
// repository whose wiki has no pages or is switched off: that is nothing to back up, not a failure.
import { NotFoundError } from '../errors.ts';
import { exists } from '../fsutil.ts';
import type { RepoTarget } from '../types.ts';
import { wikiParentOf, wikiTargetOf } from '../wiki.ts';
import type { EngineContext } from './context.ts';
import { readRepoState } from './state.ts';

/** Why there is nothing to back up for `target` when `error` is a wiki that GitHub does not have; else null. */
export function absentWiki(ctx: EngineContext, target: RepoTarget, error: unknown): string | null {
  const parent = wikiParentOf(target, ctx.serverUrl);
  return parent && error instanceof NotFoundError ? `GitHub has no wiki for ${parent} (none was created, or it is switched off)` : null;
}

/** A companion is read (status, verify, export...) once something of it is under the root, or its first sync failed. */
async function hasSomethingToRead(ctx: EngineContext, wiki: RepoTarget): Promise<boolean> {
  if ((await exists(ctx.layout.mirror(wiki))) || (await exists(ctx.layout.snapshotParent(wiki)))) return true;
  return (await readRepoState(ctx, wiki))?.lastSync?.ok === false;
}

/**
 * Each target followed by its wiki companion: always for a writer (sync, init), which finds out whether the wiki
 * exists; for a reader, only a companion with something to read, so a repository without a wiki adds nothing.
 */
export async function withWikiCompanions(ctx: EngineContext, targets: readonly RepoTarget[], forWriting: boolean): Promise<RepoTarget[]> {
  const out: RepoTarget[] = [];
  for (const target of targets) {
    out.push(target);
    const wiki = wikiTargetOf(target, ctx.serverUrl);
    if (wiki && (forWriting || (await hasSomethingToRead(ctx, wiki)))) out.push(wiki);
  }
  return out;
}
