// Which kinds of docs/METADATA_FORMAT.md a repository's `metadata:` switches (src/capture-switches.ts) capture. The
// contract's keys are issues, pulls, releases, assets, assetMaxBytes and settings; the smaller kinds ride along:
// labels and milestones with issues or pull requests, commit comments with pull requests (code review). Pure.
import type { MetadataSwitches } from '../capture-switches.ts';
import type { MetadataKind } from './format.ts';

export interface MetadataSelection {
  kinds: Record<MetadataKind, boolean>;
  downloadAssets: boolean;
  /** null: no cap. */
  assetMaxBytes: number | null;
}

export function metadataSelection(switches: MetadataSwitches | undefined): MetadataSelection {
  const on = (value: boolean | undefined) => value !== false;
  const issues = on(switches?.issues);
  const pulls = on(switches?.pulls);
  return {
    kinds: {
      settings: on(switches?.settings),
      labels: issues || pulls,
      milestones: issues || pulls,
      issues,
      pulls,
      commitComments: pulls,
      releases: on(switches?.releases),
    },
    downloadAssets: on(switches?.assets),
    assetMaxBytes: switches?.assetMaxBytes ?? null,
  };
}

/** Why a kind is not captured, for capture.json. */
export function switchedOffReason(kind: MetadataKind): string {
  const key = kind === 'labels' || kind === 'milestones' ? 'issues and metadata.pulls' : kind === 'commitComments' ? 'pulls' : kind;
  return `switched off in the config (metadata.${key}: false)`;
}
