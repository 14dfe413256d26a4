import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import { parsePositiveInt } from './options.ts';
import type { PruneRepoResult } from '../types.ts';

export const pruneCommand: Command<PruneRepoResult> = {
  name: OPERATIONS.prune.name,
  summary: OPERATIONS.prune.summary,
  usage: 'prune [--retention-days N] [--keep-min N] [--dry-run]',
  help: `  --retention-days N keep snapshots younger than N days (default 30, or BACKUP_RETENTION_DAYS)
  --keep-min N       never keep fewer than N snapshots (default 7)
  --dry-run          show what would be removed, remove nothing`,
  options: { 'retention-days': { type: 'string' }, 'keep-min': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  execute: ({ engine, values }) =>
    OPERATIONS.prune.run(
      engine,
      parseInput(OPERATIONS.prune, {
        dryRun: Boolean(values['dry-run']),
        retentionDays: parsePositiveInt(values['retention-days'], '--retention-days'),
        keepMin: parsePositiveInt(values['keep-min'], '--keep-min', { allowZero: true }),
      }),
    ),
  render: (result) =>
    renderOutcomes(result, (v) => [
      v.dryRun ? `would remove ${v.decisions.filter((d) => !d.keep).length} snapshot(s) (dry run)` : `removed ${v.removed.length} snapshot(s)`,
      ...v.warnings.map((w) => `⚠ ${w}`),
      ...v.decisions.map((d) => `${d.keep ? 'keep  ' : v.dryRun ? 'would remove' : 'remove'} ${d.name}: ${d.reason}`),
    ]),
};
