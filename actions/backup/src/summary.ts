// Pure rendering of a run's result into the job summary (Markdown) and the action's outputs. No I/O here.
import type {
  InitRepoResult,
  PruneRepoResult,
  RestoreMetadataResult,
  RestoreRepoResult,
  RunResult,
  SnapshotRepoResult,
  StatusRepoResult,
  StoreListRepoResult,
  StorePruneRunResult,
  StorePushRepoResult,
  StoreVerifyRepoResult,
  SyncRepoResult,
  VerifyRepoResult,
} from '../../../src/types.ts';
import { describeChanges, formatBytes } from '../../../src/format.ts';
import { emptyShard, shardNote } from '../../../src/shard.ts';

export type AnyRepoResult =
  | InitRepoResult
  | SyncRepoResult
  | SnapshotRepoResult
  | StatusRepoResult
  | VerifyRepoResult
  | PruneRepoResult
  | RestoreRepoResult
  | RestoreMetadataResult
  | StorePushRepoResult
  | StoreListRepoResult
  | StoreVerifyRepoResult
  | StorePruneRunResult;

export interface Row {
  repository: string;
  result: string;
  refsChanged: string;
  snapshot: string;
  snapshotCount: string;
  diskUsed: string;
}

const DASH = '—';

/** Markdown table cells: no pipes or newlines from error messages may break the table. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

function refsChanged(command: string, value: AnyRepoResult): string {
  if (command === 'sync') return describeChanges((value as SyncRepoResult).changes);
  if (command === 'init') {
    const v = value as InitRepoResult;
    return v.created ? `${v.refCount} (new mirror)` : '0 (already initialized)';
  }
  return DASH;
}

function snapshotCell(command: string, value: AnyRepoResult, status: StatusRepoResult | undefined): string {
  switch (command) {
    case 'sync': {
      const v = value as SyncRepoResult;
      const pruned = v.pruned.length ? `; pruned ${v.pruned.length}` : '';
      return `${v.snapshot ? v.snapshot.name : 'none (unchanged)'}${pruned}`;
    }
    case 'snapshot':
      return (value as SnapshotRepoResult).snapshot.name;
    case 'restore': {
      const v = value as RestoreRepoResult | RestoreMetadataResult;
      const name = 'metadataTarget' in v ? v.snapshot : v.snapshot.name;
      return `${name} → ${'metadataTarget' in v ? v.metadataTarget : v.target}${v.dryRun ? ' (dry run)' : ''}`;
    }
    case 'verify': {
      const v = value as VerifyRepoResult;
      const bad = v.snapshots.filter((s) => !s.ok).length;
      return `${v.snapshots.length} verified${bad ? `, ${bad} damaged` : ''}`;
    }
    case 'prune': {
      const v = value as PruneRepoResult;
      return `${v.removed.length} removed${v.dryRun ? ' (dry run)' : ''}`;
    }
    case 'store push':
      return `${(value as StorePushRepoResult).snapshots.length} pushed to the store`;
    case 'store list':
      return `${(value as StoreListRepoResult).snapshots.length} in the store`;
    case 'store verify': {
      const v = value as StoreVerifyRepoResult;
      return `${v.snapshots} in the store, ${v.objects} objects checked${v.objectsRead ? `, ${v.objectsRead} read back` : ''}`;
    }
    case 'store prune': {
      const v = value as StorePruneRunResult;
      return `${v.repositories.reduce((n, r) => n + r.forgotten.length, 0)} forgotten, ${v.objects.deleted} objects deleted${v.dryRun ? ' (dry run)' : ''}`;
    }
    default:
      return status?.newestSnapshot ?? DASH;
  }
}

/** One row per repository the command worked on; snapshot count and disk use come from the status after the run. */
export function summaryRows(result: RunResult<AnyRepoResult>, status?: RunResult<StatusRepoResult>): Row[] {
  const statusOf = new Map<string, StatusRepoResult>();
  for (const o of status?.outcomes ?? []) if (o.ok) statusOf.set(o.repo, o.value);
  return result.outcomes.map((outcome) => {
    const st = statusOf.get(outcome.repo);
    const count = st ? String(st.snapshotCount) : outcome.ok && result.command === 'sync' ? String((outcome.value as SyncRepoResult).snapshotCount) : DASH;
    const disk = st ? formatBytes(st.diskUsedBytes) : DASH;
    if (!outcome.ok) {
      return { repository: outcome.repo, result: `❌ failed: ${outcome.error}`, refsChanged: DASH, snapshot: DASH, snapshotCount: count, diskUsed: disk };
    }
    let verdict = '✅ ok';
    if (result.command === 'status') verdict = `${st?.health === 'healthy' ? '✅' : '⚠️'} ${(outcome.value as StatusRepoResult).health}`;
    // Nothing upstream to back up (a wiki GitHub does not have, or one switched off): say why, not just "ok".
    const skipped = (outcome.value as { skipped?: unknown } | null)?.skipped;
    if (typeof skipped === 'string') verdict = `⏭️ skipped: ${skipped}`;
    return {
      repository: outcome.repo,
      result: verdict,
      refsChanged: refsChanged(result.command, outcome.value),
      snapshot: snapshotCell(result.command, outcome.value, st),
      snapshotCount: count,
      diskUsed: disk,
    };
  });
}

/** What sync and snapshot did with the store, one line per repository that touched it. */
export function storeLines(result: RunResult<AnyRepoResult>): string[] {
  if (result.command !== 'sync' && result.command !== 'snapshot') return [];
  return result.outcomes.flatMap((o) => {
    if (!o.ok) return [];
    const v = o.value as SyncRepoResult | SnapshotRepoResult;
    const parts: string[] = [];
    if ('hydrated' in v && v.hydrated) parts.push(`hydrated from \`${v.hydrated.snapshot}\``);
    if (v.pushed) {
      parts.push(v.pushed.snapshots.length ? `pushed ${v.pushed.snapshots.map((s) => `\`${s}\``).join(', ')} (${v.pushed.uploadedObjects} objects, ${formatBytes(v.pushed.uploadedBytes)} uploaded)` : 'the store already holds every snapshot');
    }
    const location = v.pushed?.store ?? ('hydrated' in v ? v.hydrated?.store : undefined);
    return parts.length ? [`- ${cell(o.repo)}: ${parts.join('; ')} (store \`${cell(location ?? '')}\`)`] : [];
  });
}

export function renderSummary(result: RunResult<AnyRepoResult>, status?: RunResult<StatusRepoResult>): string {
  const rows = summaryRows(result, status);
  const ok = result.outcomes.length - result.failed.length;
  const head = `### Backup \`${result.command}\`: ${result.failed.length ? `${result.failed.length} failed, ${ok} ok` : `${ok} ok`}`;
  const table = [
    '| repository | result | refs changed | snapshot | snapshot count | disk used |',
    '| --- | --- | --- | --- | ---: | ---: |',
    ...rows.map((r) => `| ${[r.repository, r.result, r.refsChanged, r.snapshot, r.snapshotCount, r.diskUsed].map(cell).join(' | ')} |`),
  ];
  const when = `Started ${result.startedAt}, finished ${result.finishedAt} (UTC).`;
  const store = storeLines(result);
  const empty = emptyShard(result);
  const body = rows.length ? table.join('\n') : empty ? `_${empty[0]!.toUpperCase()}${empty.slice(1)}._` : '_No repositories._';
  return [`${head}${shardNote(result)}`, '', body, '', ...(store.length ? [...store, ''] : []), when, ''].join('\n');
}

export interface ActionOutputs {
  updated: 'true' | 'false';
  snapshot: string;
  'failed-repositories': string;
  'status-json': string;
}

export function computeOutputs(result: RunResult<AnyRepoResult>, status?: RunResult<StatusRepoResult>): ActionOutputs {
  const updated = result.outcomes.some((o) => {
    if (!o.ok) return false;
    if (result.command === 'sync') return (o.value as SyncRepoResult).changed || (o.value as SyncRepoResult).snapshot !== null;
    if (result.command === 'init') return (o.value as InitRepoResult).created;
    return result.command === 'snapshot';
  });
  const newest = (status?.outcomes ?? []).flatMap((o) => (o.ok && o.value.newestSnapshot ? [o.value.newestSnapshot] : []));
  return {
    updated: updated ? 'true' : 'false',
    snapshot: newest.join('\n'),
    'failed-repositories': result.failed.join('\n'),
    'status-json': status ? JSON.stringify(status) : '',
  };
}

/** The step's failure message: which repositories failed and why, one line each. */
export function failureMessage(result: RunResult<AnyRepoResult>): string {
  const failures = result.outcomes.filter((o) => !o.ok) as Array<{ repo: string; error: string }>;
  const total = result.outcomes.length;
  const lines = failures.map((f) => `  ${f.repo}: ${f.error.split('\n')[0]}`);
  return `backup ${result.command} failed for ${failures.length} of ${total} ${total === 1 ? 'repository' : 'repositories'}: ${failures.map((f) => f.repo).join(', ')}\n${lines.join('\n')}`;
}
