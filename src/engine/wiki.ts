// Wiki companions in the engine (docs/OPERATIONS.md "The wiki"). GitHub answers "not found" for the wiki of a
// repository whose wiki has no pages or is switched off: that is nothing to back up, not a failure. A wiki its
// repository's captured record says is switched off is not asked for at all (docs/METADATA_FORMAT.md).
import { captures } from '../capture-switches.ts';
import { BackupError, NotFoundError } from '../errors.ts';
import { exists } from '../fsutil.ts';
import { readCaptureState } from '../github-metadata/capture-state.ts';
import type { RepoTarget } from '../types.ts';
import { wikiParentOf, wikiParentRefOf, wikiTargetOf } from '../wiki.ts';
import type { EngineContext } from './context.ts';
import { readRepoState } from './state.ts';

/** A wiki not asked for: its repository's record says it is switched off. Carries the reason; absentWiki takes it. */
class WikiSwitchedOff extends BackupError {}

/** Why there is nothing to back up for `target` when `error` is a wiki that GitHub does not have; else null. */
export function absentWiki(ctx: EngineContext, target: RepoTarget, error: unknown): string | null {
  if (error instanceof WikiSwitchedOff) return error.message;
  const parent = wikiParentOf(target, ctx.serverUrl);
  return parent && error instanceof NotFoundError ? `GitHub has no wiki for ${parent} (none was created, or it is switched off)` : null;
}

/**
 * Before git is asked for a wiki companion: throws (for absentWiki) when its repository's record, as the last
 * metadata capture read it, says the wiki is switched off (`has_wiki: false`). On GitHub that wiki answers "not
 * found" anyway, so the probe is saved; its mirror and snapshots stay as they are. A record not read at that capture
 * (settings switched off, the API failed) or never captured says nothing, and git is asked as before.
 */
export async function throwIfWikiSwitchedOff(ctx: EngineContext, target: RepoTarget): Promise<void> {
  const parent = wikiParentRefOf(target, ctx.serverUrl);
  // The companion carries its repository's switches: with settings off, no capture reads the record any more.
  if (!parent || !captures(target, 'settings', ctx.serverUrl)) return;
  const { state } = await readCaptureState(ctx.layout.metadataCaptureState(parent));
  if (state.hasWiki === false) {
    throw new WikiSwitchedOff(`the GitHub record of ${parent.owner}/${parent.name} says its wiki is switched off (has_wiki false at its last metadata capture): not asked for`);
  }
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
