// What a repository's backup captures besides its git data (docs/OPERATIONS.md "What is captured"): the config's
// `metadata:` switches, per repository or per owner, over the default that everything is on for a repository on
// GitHub and off for any other remote (it gets git data only). Pure.
import { z } from 'zod';
import { githubRepoOf } from './targets.ts';
import type { RepoTarget } from './types.ts';

/** `metadata:` in a repository or owner entry. A key left out is on (for GitHub repositories): one line per key. */
export const metadataSwitchesSchema = z
  .object({
    wiki: z.boolean().optional(),
    lfs: z.boolean().optional(),
    // The GitHub records of docs/METADATA_FORMAT.md (src/github-metadata/switches.ts says which kinds each covers).
    issues: z.boolean().optional(),
    pulls: z.boolean().optional(),
    releases: z.boolean().optional(),
    assets: z.boolean().optional(),
    /** Release assets larger than this many bytes are not downloaded (capture.json names them); unset: no cap. */
    assetMaxBytes: z.number().int().nonnegative().optional(),
    settings: z.boolean().optional(),
  })
  .strict();

export type MetadataSwitches = z.infer<typeof metadataSwitchesSchema>;

/** The on/off keys (a key holding a number, such as a size cap, is read by whoever applies it). */
export type CaptureSwitch = { [K in keyof MetadataSwitches]-?: NonNullable<MetadataSwitches[K]> extends boolean ? K : never }[keyof MetadataSwitches];

/** Whether this run captures `what` for the target: it is on GitHub (the server of GITHUB_API_URL) and not switched off. */
export function captures(target: RepoTarget, what: CaptureSwitch, serverUrl: string): boolean {
  return target.metadata?.[what] !== false && githubRepoOf(target.url, serverUrl) !== null;
}
