// Lines for people about the GitHub metadata (docs/METADATA_FORMAT.md). Pure.
// - describeMetadataCapture: one capture, for sync's text output: counts per kind, then each kind not complete and why.
// - describeMetadata: what a snapshot's metadata holds and lacks and why, for status and list: counts per kind, what
//   was skipped, which kinds failed, stopped early or are off.
import type { MetadataCaptureResult } from './capture.ts';
import { METADATA_KINDS, type MetadataKind, type SnapshotMetadataSummary } from './format.ts';

export function describeMetadataCapture(result: MetadataCaptureResult): string[] {
  const kinds = Object.entries(result.kinds);
  const counts = kinds.filter(([, k]) => k.state !== 'disabled' || k.count > 0).map(([kind, k]) => `${kind} ${k.count}`);
  const lines = [`GitHub metadata: ${counts.join(', ') || 'nothing captured'}; ${result.committed ? `${result.changedDocuments} document(s) changed` : 'nothing new'}`];
  for (const [kind, k] of kinds) {
    if (k.state === 'failed' || k.state === 'partial') lines.push(`  warning: ${kind} ${k.state}: ${k.reason ?? ''}`);
    const skipped = k.skipped?.length ?? 0;
    if (skipped) lines.push(`  warning: ${kind}: ${skipped} not kept (${k.skipped![0]!.what}: ${k.skipped![0]!.reason}${skipped > 1 ? `, and ${skipped - 1} more` : ''})`);
  }
  return lines;
}

const LABEL: Record<MetadataKind, string> = {
  settings: 'settings',
  labels: 'labels',
  milestones: 'milestones',
  issues: 'issues',
  pulls: 'pulls',
  commitComments: 'commit comments',
  releases: 'releases',
};

/** "2 assets skipped: over 100 MiB" or "3 skipped: 2 over 100 MiB, 1 HTTP 404". */
function describeSkipped(skipped: Array<{ what: string; reason: string }>, noun: string): string {
  const byReason = new Map<string, number>();
  for (const s of skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  const reasons = [...byReason];
  if (reasons.length === 1) return `${skipped.length} ${noun}skipped: ${reasons[0]![0]}`;
  return `${skipped.length} ${noun}skipped: ${reasons.map(([reason, n]) => `${n} ${reason}`).join(', ')}`;
}

/** e.g. "41 issues, 12 pulls, 3 releases (2 assets skipped: over 100 MiB); pulls failed: HTTP 403 …". */
export function describeMetadata(summary: SnapshotMetadataSummary): string {
  const counts: string[] = [];
  const troubles: string[] = [];
  const disabled: string[] = [];
  for (const kind of METADATA_KINDS) {
    const fared = summary.kinds[kind];
    if (!fared) continue;
    if (fared.state === 'disabled') {
      disabled.push(LABEL[kind]);
      continue;
    }
    // Settings are one document, not a count worth showing.
    if (kind !== 'settings') counts.push(`${fared.count} ${LABEL[kind]}${fared.skipped?.length ? ` (${describeSkipped(fared.skipped, kind === 'releases' ? 'assets ' : '')})` : ''}`);
    if (fared.state === 'failed' || fared.state === 'partial') troubles.push(`${LABEL[kind]} ${fared.state}${fared.reason ? `: ${fared.reason}` : ''}`);
  }
  return [counts.join(', ') || 'no records', ...troubles, ...(disabled.length ? [`off: ${disabled.join(', ')}`] : [])].join('; ');
}
