// createEngine: resolves which repositories a run works on and runs each command across them.
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ExitCode, UsageError } from '../errors.ts';
import { readRepoConfigUrl } from '../git/repo.ts';
import { listOwnerRepositories } from '../github/owners.ts';
import { exists } from '../fsutil.ts';
import { readMetadata } from '../metadata.ts';
import { stripCredentials } from '../redact.ts';
import { inShard } from '../shard.ts';
import { dedupeTargets, explicitTarget, parseRepoSpec } from '../targets.ts';
import { isSnapshotName, isValidOwner, isValidRepoName } from '../naming.ts';
import type { BackupSettings } from '../config.ts';
import type { RepoOutcome, RepoTarget, RunResult, StatusRepoResult } from '../types.ts';
import type { Engine, EngineOptions } from './api.ts';
import { createContext, type EngineContext } from './context.ts';
import { readOwnerListing, recordOwnerListing, selectionKey } from './owner-cache.ts';
import { exportRepo } from './export.ts';
import { exportMetadataSite } from './export-metadata.ts';
import { pruneRepo } from './prune.ts';
import { restoreFromArchive, restoreRepo } from './restore.ts';
import { restoreMetadataRepo } from './restore-metadata.ts';
import { runPerRepo } from './run.ts';
import { listRepo, statusRepo } from './status.ts';
import { initRepo, repoLocked, snapshotRepo, syncRepo } from './sync.ts';
import { assertPinReason, unpinSnapshot } from './pins.ts';
import { diffRepo, findRepo } from './history.ts';
import { assertSnapshotName } from '../naming.ts';
import { verifyRepo } from './verify.ts';
import { withWikiCompanions } from './wiki.ts';
import { storeListRepo, storePushRepo, storedTargets, withRequiredStore } from './store-commands.ts';
import { storePruneAll, storeVerifyRepo } from './store-maintenance.ts';
import { restoreFromStore } from './store-restore.ts';
import { withStoreRun } from './store-sync.ts';

export type { Engine, EngineOptions } from './api.ts';

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Repositories that exist under the root (mirrors or snapshots), for commands run without a repository list. */
async function discoverTargets(ctx: EngineContext): Promise<RepoTarget[]> {
  const found = new Map<string, RepoTarget>();
  for (const owner of (await subdirs(ctx.layout.immutableDir)).filter(isValidOwner)) {
    for (const entry of await subdirs(join(ctx.layout.immutableDir, owner))) {
      const name = entry.replace(/\.git$/, '');
      if (!entry.endsWith('.git') || !isValidRepoName(name)) continue;
      const url = (await readRepoConfigUrl(ctx.git, join(ctx.layout.immutableDir, owner, entry))) ?? '';
      found.set(`${owner}/${name}`, { owner, name, id: `${owner}/${name}`, url });
    }
  }
  for (const owner of (await subdirs(ctx.layout.snapshotsDir)).filter(isValidOwner)) {
    for (const name of (await subdirs(join(ctx.layout.snapshotsDir, owner))).filter(isValidRepoName)) {
      const id = `${owner}/${name}`;
      if (found.has(id)) continue;
      let url = '';
      const snapshot = (await subdirs(join(ctx.layout.snapshotsDir, owner, name))).filter(isSnapshotName).at(-1);
      if (snapshot) url = (await readMetadata(join(ctx.layout.snapshotsDir, owner, name, snapshot)).catch(() => null))?.sourceUrl ?? '';
      found.set(id, { owner, name, id, url });
    }
  }
  return [...found.values()];
}

type OwnerEntry = Extract<BackupSettings['repositories'][number], { owner: string }>;

/** sync and init ask the API and record the answer; every other command reads what the last one recorded. */
async function ownerTargets(ctx: EngineContext, entry: OwnerEntry, refresh: boolean): Promise<RepoTarget[]> {
  const selection = selectionKey(entry);
  if (refresh) {
    const repos = await listOwnerRepositories({ ...entry, apiUrl: ctx.settings.apiUrl, token: ctx.github.token, onResponse: ctx.pacer.observe });
    ctx.logger.log('info', `owner ${entry.owner}: ${repos.length} repositories selected`);
    await recordOwnerListing(ctx, entry.owner, selection, repos);
    return repos.map((r) => withSwitches(explicitTarget(`${r.owner}/${r.name}`, r.cloneUrl), entry));
  }
  const listing = await readOwnerListing(ctx, entry.owner);
  if (!listing) {
    // Never listed here: what is already backed up under the root for this owner is all there is to read.
    const onDisk = (await discoverTargets(ctx)).filter((t) => t.owner.toLowerCase() === entry.owner.toLowerCase());
    ctx.logger.log('warn', `owner ${entry.owner} has not been listed by a sync yet: using the ${onDisk.length} repositories found under the root`);
    return onDisk.map((t) => withSwitches(t, entry));
  }
  if (listing.selection !== selection) {
    ctx.logger.log('warn', `owner ${entry.owner}: the selection changed since the last sync listed it (${listing.listedAt}); run sync to refresh`);
  }
  return listing.repositories.map((r) => withSwitches(explicitTarget(`${r.owner}/${r.name}`, r.cloneUrl), entry));
}

/** The entry's `metadata:` switches travel with each of its targets (src/capture-switches.ts). */
function withSwitches(target: RepoTarget, entry: { metadata?: RepoTarget['metadata'] }): RepoTarget {
  return entry.metadata ? { ...target, metadata: entry.metadata } : target;
}

async function configuredTargets(ctx: EngineContext, refreshOwners: boolean): Promise<RepoTarget[]> {
  const targets: RepoTarget[] = [];
  for (const entry of ctx.settings.repositories) {
    if (typeof entry === 'string') targets.push(parseRepoSpec(entry, ctx.serverUrl));
    else if ('repo' in entry) targets.push(withSwitches(entry.url ? explicitTarget(entry.repo, entry.url) : parseRepoSpec(entry.repo, ctx.serverUrl), entry));
    else targets.push(...(await ownerTargets(ctx, entry, refreshOwners)));
  }
  return dedupeTargets(await withWikiCompanions(ctx, targets, refreshOwners));
}

export function createEngine(options: EngineOptions): Engine {
  const ctx = createContext(options);
  let cached: Promise<RepoTarget[]> | undefined;
  let refreshed: Promise<RepoTarget[]> | undefined;
  const { shard } = ctx.settings;
  /** How many repositories were selected before --shard sliced them (a result says so: docs/OPERATIONS.md). */
  let selected = 0;
  const slice = (targets: RepoTarget[]): RepoTarget[] => {
    selected = targets.length;
    return inShard(targets, shard);
  };
  /** An empty slice of a non-empty selection is a shard with nothing to do, not a missing configuration. */
  const emptyShard = (targets: RepoTarget[]) => Boolean(shard) && targets.length === 0 && selected > 0;

  const resolveTargets = (): Promise<RepoTarget[]> =>
    (cached ??= (ctx.settings.repositories.length ? configuredTargets(ctx, false) : discoverTargets(ctx).then(dedupeTargets)).then(slice));

  /** Commands that write need an explicit list: nothing is fetched from a guess. They refresh owner listings. */
  async function writableTargets(command: string): Promise<RepoTarget[]> {
    if (!ctx.settings.repositories.length) {
      throw new UsageError(`${command}: no repositories configured`, 'name-repositories');
    }
    return (refreshed ??= configuredTargets(ctx, true).then(slice));
  }

  async function readableTargets(command: string): Promise<RepoTarget[]> {
    const targets = await resolveTargets();
    if (!targets.length && !emptyShard(targets)) throw new UsageError(`${command}: no repositories configured and none found under ${ctx.layout.root}`);
    return targets;
  }

  const each = async <T>(command: string, targets: RepoTarget[], task: (t: RepoTarget) => Promise<T>): Promise<RunResult<T>> => {
    const result = await runPerRepo(command, targets, ctx.settings.concurrency, ctx.clock, ctx.redactor, task, ctx.progress, ctx.pacer);
    return shard ? { ...result, shard: { ...shard, of: selected } } : result;
  };

  const engine: Engine = {
    resolveTargets,
    repositories: async () =>
      each('repositories', await readableTargets('repositories'), async (t) => ({ repo: t.id, url: stripCredentials(t.url), initialized: await exists(ctx.layout.mirror(t)) })),
    init: async () => {
      const targets = await writableTargets('init');
      return withStoreRun(ctx, (store) => each('init', targets, (t) => initRepo(ctx, t, store)));
    },
    sync: async (o = {}) => {
      const targets = await writableTargets('sync');
      return withStoreRun(ctx, (store) => each('sync', targets, (t) => syncRepo(ctx, t, o, store)));
    },
    snapshot: async (o = {}) => {
      // A bad reason is refused before anything is taken: no unpinned snapshot is left behind by it.
      if (o.pin) assertPinReason(o.reason);
      else if (o.reason !== undefined) throw new UsageError('snapshot: a reason is only kept for a pinned snapshot');
      const targets = await readableTargets('snapshot');
      return withStoreRun(ctx, (store) => each('snapshot', targets, (t) => snapshotRepo(ctx, t, store, o)));
    },
    diff: async (o) => each('diff', await readableTargets('diff'), (t) => diffRepo(ctx, t, o.from, o.to)),
    find: async (o) => each('find', await readableTargets('find'), (t) => findRepo(ctx, t, o.query)),
    unpin: async (o) => {
      const name = assertSnapshotName(o.snapshot);
      const targets = await readableTargets('unpin');
      if (targets.length > 1) throw new UsageError(`unpin works on one repository; ${targets.length} are selected`, 'pick-one-repository');
      return each('unpin', targets, (t) => repoLocked(ctx, t, 'unpin', async () => ({ repo: t.id, snapshot: name, reason: (await unpinSnapshot(ctx, t, name)).reason })));
    },
    list: async () => each('list', await readableTargets('list'), (t) => listRepo(ctx, t)),
    status: async () => each('status', await readableTargets('status'), (t) => statusRepo(ctx, t)),
    health: async () => {
      const result = await each('health', await readableTargets('health'), (t) => statusRepo(ctx, t));
      return withHealthExitCode(result);
    },
    verify: async (o = {}) => each('verify', await readableTargets('verify'), (t) => verifyRepo(ctx, t, o)),
    prune: async (o = {}) => each('prune', await readableTargets('prune'), (t) => (o.dryRun ? pruneRepo(ctx, t, o) : repoLocked(ctx, t, 'prune', () => pruneRepo(ctx, t, o)))),
    restore: async (o = {}) => {
      if (o.fromStore && o.fromArchive) throw new UsageError('restore: --from-store and --from-archive cannot be combined');
      if (o.fromArchive) {
        const archive = o.fromArchive;
        const configured = ctx.settings.repositories.length ? await resolveTargets() : [];
        // The archive says which repository it holds; a configured source URL wins over the recorded one.
        const targetFor = (m: { repository: string; sourceUrl: string }) => configured.find((t) => t.id === m.repository) ?? explicitTarget(m.repository, m.sourceUrl);
        const archiveTarget = { owner: '', name: '', id: basename(archive), url: archive };
        return runPerRepo('restore', [archiveTarget], 1, ctx.clock, ctx.redactor, () => restoreFromArchive(ctx, archive, o, targetFor), ctx.progress);
      }
      const targets = await readableTargets('restore');
      if (targets.length > 1 && (o.to || o.push)) {
        throw new UsageError(`restore to a directory or a remote works on one repository; ${targets.length} are selected`, 'pick-one-repository');
      }
      if (o.fromStore) return withRequiredStore(ctx, 'restore --from-store', (store) => each('restore', targets, (t) => restoreFromStore(ctx, store, t, o)));
      return each('restore', targets, (t) => restoreRepo(ctx, t, o));
    },
    restoreMetadata: async (o) => {
      const targets = await readableTargets('restore');
      if (targets.length > 1) throw new UsageError(`restore of the metadata works on one repository; ${targets.length} are selected`, 'pick-one-repository');
      return each('restore', targets, (t) => restoreMetadataRepo(ctx, t, o));
    },
    storePush: async () => {
      const targets = await readableTargets('store push');
      return withRequiredStore(ctx, 'store push', (store) => each('store push', targets, (t) => storePushRepo(ctx, store, t)));
    },
    storeList: () =>
      withRequiredStore(ctx, 'store list', async (store) => {
        const targets = ctx.settings.repositories.length ? await resolveTargets() : await storedTargets(store);
        return each('store list', targets, (t) => storeListRepo(store, t));
      }),
    storeVerify: (o = {}) =>
      withRequiredStore(ctx, 'store verify', async (store) => {
        const targets = ctx.settings.repositories.length ? await resolveTargets() : await storedTargets(store);
        return each('store verify', targets, (t) => storeVerifyRepo(ctx, store, t, o));
      }),
    storePrune: async (o = {}) => {
      // Without a list, prune applies the policy store-wide; a shard of that would be every shard's work at once.
      if (shard && !ctx.settings.repositories.length) {
        throw new UsageError(
          `store prune --shard ${shard.index}/${shard.count}: no repositories configured, and a shard of nothing is a mistake, not the whole store (without --shard, store prune applies the policy to every repository the store holds)`,
          'name-repositories',
        );
      }
      return withRequiredStore(ctx, 'store prune', async (store) => {
        // The global selection (--repo, the config's list, --shard) narrows the policy; objects stay store-wide.
        const selected = ctx.settings.repositories.length ? (await resolveTargets()).map((t) => t.id) : null;
        return runPerRepo('store prune', [{ owner: '', name: '', id: store.store.location, url: '' }], 1, ctx.clock, ctx.redactor, () => storePruneAll(ctx, store, o, selected));
      });
    },
    exportArchive: async (o = {}) => {
      const targets = await readableTargets('export');
      if (targets.length > 1 && o.output) throw new UsageError(`export to a named file works on one repository; ${targets.length} are selected`, 'pick-one-repository');
      return each('export', targets, (t) => exportRepo(ctx, t, o));
    },
    exportMetadata: async (o = {}) => {
      const targets = await readableTargets('export');
      if (targets.length > 1 && o.output) throw new UsageError(`export to a named directory works on one repository; ${targets.length} are selected`, 'pick-one-repository');
      return each('export', targets, (t) => exportMetadataSite(ctx, t, o));
    },
  };
  return engine;
}

/**
 * Health fails (exit 1, never 3) unless every repository is healthy: the strict check (docs/OPERATIONS.md "Status
 * and health"). A repository that is not healthy is a failed outcome, its status kept in `details`, so `outcomes`
 * and `failed` say the same thing.
 */
function withHealthExitCode(result: RunResult<StatusRepoResult>): RunResult<StatusRepoResult> {
  const outcomes: RepoOutcome<StatusRepoResult>[] = result.outcomes.map((o) =>
    !o.ok || o.value.health === 'healthy' ? o : { repo: o.repo, ok: false, error: `${o.value.health}: ${o.value.healthReason}`, exitCode: ExitCode.FAILURE, details: o.value },
  );
  const failed = outcomes.filter((o) => !o.ok).map((o) => o.repo);
  return { ...result, outcomes, failed, exitCode: failed.length ? ExitCode.FAILURE : ExitCode.OK };
}
