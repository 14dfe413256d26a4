// One line per capture for people (sync's text output): counts per kind, then each kind not complete and why. Pure.
import type { MetadataCaptureResult } from './capture.ts';

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
