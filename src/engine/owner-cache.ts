// state/owners/<owner>.json: the repositories an owner entry expanded to at the last sync or init. Read-only
// commands (list, status, health, verify, restore, prune, and the container's health check every 30 s) use it, so
// they never call the GitHub API and keep working offline; only sync and init refresh it.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { OwnerRepository } from '../github/owners.ts';
import type { EngineContext } from './context.ts';

const listingSchema = z.object({
  owner: z.string(),
  listedAt: z.iso.datetime(),
  /** The entry's selection when it was listed: a changed config shows up as a mismatch until the next sync. */
  selection: z.string(),
  repositories: z.array(z.object({ owner: z.string(), name: z.string(), cloneUrl: z.string() })),
});

export type OwnerListing = z.infer<typeof listingSchema>;

/** A stable text for an owner entry's selection (type, archived, forks, exclusions). */
export function selectionKey(entry: { type: string; includeArchived: boolean; includeForks: boolean; exclude: string[] }): string {
  return JSON.stringify([entry.type, entry.includeArchived, entry.includeForks, [...entry.exclude].sort()]);
}

export async function readOwnerListing(ctx: EngineContext, owner: string): Promise<OwnerListing | null> {
  let text: string;
  try {
    text = await readFile(ctx.layout.ownerListing(owner), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = listingSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function recordOwnerListing(ctx: EngineContext, owner: string, selection: string, repositories: OwnerRepository[]): Promise<void> {
  const listing: OwnerListing = {
    owner,
    listedAt: ctx.clock().toISOString(),
    selection,
    repositories: repositories.map(({ owner: o, name, cloneUrl }) => ({ owner: o, name, cloneUrl })),
  };
  const file = ctx.layout.ownerListing(owner);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(listingSchema.parse(listing), null, 2)}\n`);
  await rename(tmp, file);
}
