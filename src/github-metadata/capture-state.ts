// state/metadata/<owner>/<repo>.json: what lets the next capture ask only for what changed (docs/METADATA_FORMAT.md
// "Where it lives"): ETags of the lists last read, `since` high-water marks of the incremental streams, and the
// assets already downloaded. Not part of any snapshot; losing it costs one full capture, never a record.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { readTextCapped } from '../bounded-read.ts';

const CAPTURE_STATE_VERSION = 1;
// Thousands of ETags and assets are a few hundred kilobytes; anything near this is damage.
const MAX_CAPTURE_STATE_BYTES = 32 * 1024 * 1024;

const pageMarkSchema = z.object({
  etag: z.string(),
  hasNext: z.boolean(),
  /** The repository's own record only: its `permissions.admin` (the token's user is an admin), id and full name, as
   *  that answer said (so the identity lookup's 304 stands for them: src/engine/identity.ts). */
  admin: z.boolean().optional(),
  id: z.number().int().positive().optional(),
  fullName: z.string().optional(),
});
export type PageMark = z.infer<typeof pageMarkSchema>;

const streamMarkSchema = z.object({
  /** The `since` of the last request (updated_at of the newest record read); absent: from the beginning. */
  since: z.string().optional(),
  /** ETag of the first page asked with that `since`: an unchanged stream answers 304. */
  etag: z.string().optional(),
  /** Records read only in part (pull requests whose reviews the token could not read): read again next run. */
  retry: z.array(z.number().int().positive()).optional(),
});
export type StreamMark = z.infer<typeof streamMarkSchema>;

const assetMarkSchema = z.object({ updatedAt: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type AssetMark = z.infer<typeof assetMarkSchema>;

const refusalSchema = z.object({ at: z.string(), reason: z.string() });
export type Refusal = z.infer<typeof refusalSchema>;

export const captureStateSchema = z.object({
  version: z.literal(CAPTURE_STATE_VERSION),
  /** The metadata repository's main these marks were written after: a tree at another commit may not hold them. */
  commit: z.string().optional(),
  /** By request ("/repos/o/r/labels?page=1&per_page=100"): the ETag of its last 200, and whether a next page followed. */
  pages: z.record(z.string(), pageMarkSchema),
  /** By stream name (issues, issueComments, reviewComments, pulls). */
  streams: z.record(z.string(), streamMarkSchema),
  /** By asset id: the bytes already kept for that version of the asset. */
  assets: z.record(z.string(), assetMarkSchema),
  /** Branch protection was refused (403, 404) to a token whose user is no admin: when, and why (collect-settings.ts). */
  protectionRefused: refusalSchema.optional(),
  /** The repository record's ETag, id and full name as the identity lookup last got them, for a repository whose
   *  settings are not captured (src/engine/identity.ts): its own, so the settings never take a 304 for a record the
   *  tree does not hold. With settings captured, the lookup goes by the record's mark in `pages` instead. */
  identity: pageMarkSchema.optional(),
  /** The repository's record as the last capture read it says its wiki is on (`has_wiki`); absent when that capture
   *  did not read the record (settings switched off, the API failed): the wiki's sync then asks git (src/engine/wiki.ts). */
  hasWiki: z.boolean().optional(),
});
export type CaptureState = z.infer<typeof captureStateSchema>;

export function emptyCaptureState(): CaptureState {
  return { version: CAPTURE_STATE_VERSION, pages: {}, streams: {}, assets: {} };
}

/** The recorded state, or an empty one when there is none or it cannot be trusted (the capture is then full). */
export async function readCaptureState(file: string): Promise<{ state: CaptureState; problem?: string }> {
  let text: string;
  try {
    text = await readTextCapped(file, MAX_CAPTURE_STATE_BYTES, 'the metadata capture state');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyCaptureState() };
    return { state: emptyCaptureState(), problem: `${file} is unreadable (${(error as Error).message}): capturing everything again` };
  }
  try {
    const parsed = captureStateSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { state: parsed.data };
  } catch {
    // not JSON: the same as a schema mismatch
  }
  return { state: emptyCaptureState(), problem: `${file} is not a capture state this version reads: capturing everything again` };
}

/** The same marks, as they would be written: a capture that changed none leaves the file alone (no write, no fsync). */
export function sameCaptureState(a: CaptureState, b: CaptureState): boolean {
  return JSON.stringify(captureStateSchema.parse(a)) === JSON.stringify(captureStateSchema.parse(b));
}

/**
 * After a capture that failed as a whole (its metadata repository, the disk): what the record said is no longer known
 * to be this run's, so the wiki is asked for again. Best effort: a disk that failed the capture may fail this too.
 */
export async function forgetRecordFacts(file: string): Promise<void> {
  const { state, problem } = await readCaptureState(file);
  if (!problem && state.hasWiki !== undefined) {
    delete state.hasWiki;
    await writeCaptureState(file, state).catch(() => undefined);
  }
}

/** Written to a temporary file, flushed and renamed: a crash leaves the old state or the new one. */
export async function writeCaptureState(file: string, state: CaptureState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(captureStateSchema.parse(state))}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
