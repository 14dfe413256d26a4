import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import { describeChanges } from '../format.ts';
import type { SyncRepoResult } from '../types.ts';
import { describeStorePush } from './store.ts';
import { describeMetadataCapture } from '../github-metadata/describe.ts';

const MAX_LISTED = 10;

function listRefs(label: string, refs: string[]): string[] {
  if (!refs.length) return [];
  const shown = refs.slice(0, MAX_LISTED).join(', ');
  return [`${label}: ${shown}${refs.length > MAX_LISTED ? ` and ${refs.length - MAX_LISTED} more` : ''}`];
}

export const syncCommand: Command<SyncRepoResult> = {
  name: OPERATIONS.sync.name,
  summary: OPERATIONS.sync.summary,
  usage: 'sync [--force-snapshot] [--allow-ref-loss] [--accept-new-identity] [--no-prune]',
  help: `  --force-snapshot   take a snapshot even when no ref changed
  --allow-ref-loss   accept an upstream that lost all or most of its refs (otherwise the run fails
                     and the mirror keeps them)
  --accept-new-identity
                     accept an upstream that is another repository (another GitHub id, or a history
                     unrelated to the mirror's); otherwise the run fails and the mirror is left alone
  --no-prune         do not apply retention after the sync`,
  options: {
    'force-snapshot': { type: 'boolean' },
    'allow-ref-loss': { type: 'boolean' },
    'accept-new-identity': { type: 'boolean' },
    'no-prune': { type: 'boolean' },
  },
  execute: ({ engine, values }) =>
    OPERATIONS.sync.run(
      engine,
      parseInput(OPERATIONS.sync, {
        forceSnapshot: Boolean(values['force-snapshot']),
        allowRefLoss: Boolean(values['allow-ref-loss']),
        acceptNewIdentity: Boolean(values['accept-new-identity']),
        noPrune: Boolean(values['no-prune']),
      }),
    ),
  render: (result) =>
    renderOutcomes(result, (v) => v.skipped ? [`skipped: ${v.skipped}`] : [
      `refs changed: ${describeChanges(v.changes)}; ${v.snapshot ? `snapshot ${v.snapshot.name} taken` : 'no snapshot needed'}; ${v.snapshotCount} snapshot(s)${v.pruned.length ? `, pruned ${v.pruned.join(', ')}` : ''}`,
      ...listRefs('added', v.changes.added),
      ...listRefs('updated', v.changes.updated),
      ...listRefs('force-updated', v.changes.forceUpdated),
      ...listRefs('deleted', v.changes.deleted),
      ...(v.metadata ? describeMetadataCapture(v.metadata) : []),
      ...(v.hydrated ? [`hydrated from ${v.hydrated.store} ${v.hydrated.snapshot} instead of cloning`] : []),
      ...(v.pushed ? [describeStorePush(v.pushed)] : []),
    ]),
};
