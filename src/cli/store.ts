// backup-manager store push|list|verify|prune: the off-site store (docs/STORE_FORMAT.md, docs/OPERATIONS.md).
import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import { formatBytes } from '../format.ts';
import { OPERATIONS, parseInput, type OperationResult } from '../operations/index.ts';
import type { StoreListRepoResult, StorePruneRunResult, StorePushRepoResult, StorePushSummary, StoreVerifyRepoResult } from '../types.ts';

type StoreRepoResult = StorePushRepoResult | StoreListRepoResult | StoreVerifyRepoResult | StorePruneRunResult;
/** The four operations of the table under one command, told apart by `command`. */
type StoreResult = Extract<OperationResult, { command: `store ${string}` }>;

const SUBCOMMANDS = ['push', 'list', 'verify', 'prune'] as const;

/** --read-data-subset 5% (or 5): a share of the objects, in percent. */
function parseSubset(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(String(raw));
  const percent = m ? Number(m[1]) : NaN;
  if (!(percent > 0 && percent <= 100)) throw new UsageError(`--read-data-subset must be a percentage above 0 and at most 100 (e.g. 5%), got ${JSON.stringify(raw)}`);
  return percent;
}

const FROM_INDEXES = 'read from the object indexes: the store is encrypted and BACKUP_AGE_IDENTITY_FILE is not set';

function describeVerify(v: StoreVerifyRepoResult): string[] {
  const read = v.objectsRead ? `, ${v.objectsRead} read back (${formatBytes(v.bytesRead)}, ${v.packsChecked} pack(s) checked against their index)` : '';
  return [
    `${v.snapshots} snapshot(s), ${v.objects} object(s) present with the right sizes${read}`,
    ...(v.readFrom === 'object indexes' ? [`${FROM_INDEXES} (contents not checked)`] : []),
    ...(v.unreferencedObjects ? [`${v.unreferencedObjects} object(s) no manifest references (store prune removes them after the grace period)`] : []),
  ];
}

function describePrune(v: StorePruneRunResult): string[] {
  const verb = v.dryRun ? 'would forget' : 'forgot';
  return [
    ...(v.selected ? [`policy applied to ${v.selected.join(', ')} (objects judged against every repository in the store)`] : []),
    ...(v.readFrom === 'object indexes' ? [FROM_INDEXES] : []),
    `${verb} ${v.repositories.reduce((n, r) => n + r.forgotten.length, 0)} snapshot(s); ${v.dryRun ? 'would delete' : 'deleted'} ${v.objects.deleted} unreferenced object(s) (${formatBytes(v.objects.deletedBytes)})`,
    ...v.repositories.filter((r) => r.forgotten.length).map((r) => `${r.repository}: ${r.forgotten.join(', ')}`),
    ...v.repositories.filter((r) => r.locked.length).map((r) => `${r.repository}: ${r.locked.length} snapshot(s) kept because Object Lock retains them`),
    ...(v.objects.young ? [`${v.objects.young} unreferenced object(s) younger than the grace period kept (a push may be in flight)`] : []),
    ...(v.objects.locked ? [`${v.objects.locked} unreferenced object(s) kept: Object Lock retains them`] : []),
  ];
}

/** One line for a push, also shown by sync and snapshot. */
export function describeStorePush(v: StorePushSummary): string {
  if (!v.snapshots.length) return `store ${v.store}: nothing to push, it holds every local snapshot`;
  return `store ${v.store}: pushed ${v.snapshots.join(', ')}: ${v.uploadedObjects} object(s) uploaded (${formatBytes(v.uploadedBytes)}), ${v.reusedObjects} already there`;
}

function describePush(v: StorePushRepoResult): string[] {
  return [describeStorePush(v)];
}

function describeList(v: StoreListRepoResult): string[] {
  if (!v.snapshots.length) return ['no snapshots in the store'];
  // Newest first, as `list` prints local snapshots.
  return [`${v.snapshots.length} snapshot(s) in the store`, ...[...v.snapshots].reverse().map((s) => `${s.name}  ${s.createdAt}`)];
}

export const storeCommand: Command<StoreRepoResult, StoreResult> = {
  name: 'store',
  summary: 'the off-site store: push snapshots not yet there, list, verify, prune',
  usage: 'store push | list | verify [--read-data | --read-data-subset P%] | prune [--dry-run]',
  help: `  push               upload every local snapshot the store lacks (idempotent; resumes after a kill;
                     uploads only objects the store does not hold; the manifest is written last)
  list               snapshots per repository in the store (all repositories it holds, or --repo)
  verify             every manifest's objects exist with the sizes it recorded
    --read-data      also download every object and check its sha256 (packs against their index)
    --read-data-subset P%   the same for P percent of the objects, chosen at random
  prune              apply store.retention (restic-style; default: the local policy) to the selected repositories
                     (--repo, the config's list; all the store holds when none), then delete objects no manifest of
                     any repository references, never younger than a day, never under Object Lock (store lock).
                     An encrypted store's verify and prune need no identity: they read the object indexes
    --dry-run        say what would go, delete nothing`,
  options: {
    'read-data': { type: 'boolean' },
    'read-data-subset': { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  execute: ({ engine, positionals, values }) => {
    const [sub, ...rest] = positionals;
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(`store: expected one of ${SUBCOMMANDS.join(', ')}${sub ? `, got ${JSON.stringify(sub)}` : ''}`);
    }
    if (rest.length) throw new UsageError(`store ${sub} takes no arguments, got ${JSON.stringify(rest.join(' '))}`);
    switch (sub as (typeof SUBCOMMANDS)[number]) {
      case 'push':
        return OPERATIONS['store push'].run(engine, {});
      case 'list':
        return OPERATIONS['store list'].run(engine, {});
      case 'verify': {
        if (values['dry-run']) throw new UsageError('store verify: --dry-run belongs to store prune');
        if (values['read-data'] && values['read-data-subset'] !== undefined) throw new UsageError('store verify: give --read-data or --read-data-subset, not both');
        const subset = parseSubset(values['read-data-subset']);
        const op = OPERATIONS['store verify'];
        return op.run(engine, parseInput(op, { readData: Boolean(values['read-data']), ...(subset === undefined ? {} : { readDataSubsetPercent: subset }) }));
      }
      case 'prune': {
        if (values['read-data'] || values['read-data-subset'] !== undefined) throw new UsageError('store prune: --read-data belongs to store verify');
        const op = OPERATIONS['store prune'];
        return op.run(engine, parseInput(op, { dryRun: Boolean(values['dry-run']) }));
      }
    }
  },
  render: (result) => {
    switch (result.command) {
      case 'store push':
        return renderOutcomes(result, describePush);
      case 'store list':
        return renderOutcomes(result, describeList);
      case 'store verify':
        return renderOutcomes(result, describeVerify);
      case 'store prune':
        return renderOutcomes(result, describePrune);
    }
  },
};
