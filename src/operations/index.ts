// The operations table (docs/ARCHITECTURE.md "Faces"): the CLI's commands and help, the action's `action` input, the
// workflow's choices and the MCP server's tools all derive from these entries.
import { z } from 'zod';
import { defineOperation, named, type Operation } from './operation.ts';
import type { ExportRepoResult, ExportSiteResult, RestoreMetadataResult, RestoreRepoResult, RunResult } from '../types.ts';

export { parseInput, type Operation } from './operation.ts';

const none = z.object({}).strict();
const snapshotName = z.string().min(1).describe('"latest" or a snapshot name (snapshot-YYYYMMDD-HHMMSS)');
const positiveInt = z.number().int().positive();

export const OPERATIONS = {
  init: defineOperation({
    name: 'init',
    summary: 'create the bare mirror of each repository (a no-op for those already initialized)',
    input: none,
    readOnly: false,
    destructive: false,
    openWorld: true,
    action: true,
    dispatch: true,
    run: async (engine) => named('init', await engine.init()),
  }),
  sync: defineOperation({
    name: 'sync',
    summary: 'fetch every ref, judge what changed, snapshot when refs changed, then apply retention',
    input: z
      .object({ forceSnapshot: z.boolean().optional(), allowRefLoss: z.boolean().optional(), acceptNewIdentity: z.boolean().optional(), noPrune: z.boolean().optional() })
      .strict(),
    readOnly: false,
    // Retention removes old snapshots; a sync never removes a ref the upstream still has.
    destructive: true,
    openWorld: true,
    action: true,
    dispatch: true,
    run: async (engine, input) => named('sync', await engine.sync(input)),
  }),
  snapshot: defineOperation({
    name: 'snapshot',
    summary: 'take a snapshot of each mirror now, whether or not anything changed (pinned: kept out of retention)',
    input: z
      .object({
        pin: z.boolean().optional().describe('keep it out of retention until unpinned (a backup before a risky change)'),
        reason: z.string().min(1).max(500).optional().describe('why it is pinned (required with pin)'),
      })
      .strict(),
    readOnly: false,
    destructive: false,
    openWorld: true,
    action: true,
    dispatch: true,
    run: async (engine, input) => named('snapshot', await engine.snapshot(input)),
  }),
  diff: defineOperation({
    name: 'diff',
    summary: 'refs added, deleted, moved and force-moved between two snapshots, or a snapshot and the mirror or upstream now',
    input: z
      .object({
        from: z.string().min(1).describe('"latest", a snapshot name, "mirror", or "upstream" (its refs now, by ls-remote)'),
        to: z.string().min(1).default('mirror').describe('"latest", a snapshot name, "mirror" (default), or "upstream"'),
      })
      .strict(),
    readOnly: true,
    destructive: false,
    openWorld: true,
    run: async (engine, input) => named('diff', await engine.diff(input)),
  }),
  find: defineOperation({
    name: 'find',
    summary: 'which snapshots hold a commit (reachable from which refs) or had a ref of this name or pattern, first and last seen',
    input: z.object({ query: z.string().min(1).max(1000).describe('a commit (7+ hex digits), a ref name (main, refs/tags/v1) or a glob (feature/*)') }).strict(),
    readOnly: true,
    destructive: false,
    openWorld: false,
    run: async (engine, input) => named('find', await engine.find(input)),
  }),
  unpin: defineOperation({
    name: 'unpin',
    summary: 'hand a pinned snapshot back to retention',
    input: z.object({ snapshot: z.string().min(1).describe('the pinned snapshot (snapshot-YYYYMMDD-HHMMSS)') }).strict(),
    readOnly: false,
    // Retention may remove it afterwards.
    destructive: true,
    openWorld: false,
    run: async (engine, input) => named('unpin', await engine.unpin(input)),
  }),
  list: defineOperation({
    name: 'list',
    summary: 'list the snapshots of each repository with time, HEAD commit and size',
    input: none,
    readOnly: true,
    destructive: false,
    openWorld: false,
    run: async (engine) => named('list', await engine.list()),
  }),
  repositories: defineOperation({
    name: 'repositories',
    summary: 'the repositories a command works on: configured ones (owners as last listed), or with none configured those under the root',
    input: none,
    readOnly: true,
    destructive: false,
    openWorld: false,
    run: async (engine) => named('repositories', await engine.repositories()),
  }),
  status: defineOperation({
    name: 'status',
    summary: 'per repository: health verdict, last sync, HEAD, branches and tags, snapshots, disk used (a report: see health to check)',
    input: none,
    readOnly: true,
    destructive: false,
    openWorld: false,
    action: true,
    dispatch: true,
    run: async (engine) => named('status', await engine.status()),
  }),
  health: defineOperation({
    name: 'health',
    summary: 'exit 0 when every repository synced successfully within the last 26 hours, 1 otherwise',
    input: none,
    readOnly: true,
    destructive: false,
    openWorld: false,
    run: async (engine) => named('health', await engine.health()),
  }),
  verify: defineOperation({
    name: 'verify',
    summary: 'recompute checksums and run git fsck on a snapshot (default: latest) or all of them',
    input: z
      .object({ snapshot: snapshotName.optional(), all: z.boolean().optional().describe('verify every snapshot') })
      .strict()
      .refine((v) => !(v.all && v.snapshot), { message: 'give a snapshot name or all, not both' }),
    readOnly: true,
    destructive: false,
    openWorld: false,
    action: true,
    dispatch: true,
    run: async (engine, input) => named('verify', await engine.verify(input)),
  }),
  prune: defineOperation({
    name: 'prune',
    summary: 'remove snapshots older than the retention (by the time in their name), never the newest or below --keep-min',
    input: z.object({ dryRun: z.boolean().optional(), retentionDays: positiveInt.optional(), keepMin: z.number().int().nonnegative().optional() }).strict(),
    readOnly: false,
    destructive: true,
    openWorld: false,
    action: true,
    run: async (engine, input) => named('prune', await engine.prune(input)),
  }),
  restore: defineOperation({
    name: 'restore',
    summary: 'restore a snapshot: in place (the replaced mirror is kept), to a directory, or pushed to a new remote',
    input: z
      .object({
        snapshot: snapshotName.optional(),
        to: z.string().min(1).optional().describe('restore into this directory (must be empty or absent unless force)'),
        checkout: z.boolean().optional().describe('with to: a work tree with HEAD checked out'),
        push: z.string().min(1).optional().describe('push every branch, tag and note to this new, empty remote'),
        fromArchive: z.string().min(1).optional(),
        fromStore: z.boolean().optional(),
        force: z.boolean().optional(),
        dryRun: z.boolean().optional(),
        metadataTo: z
          .string()
          .regex(/^[^/\s]+\/[^/\s]+$/, 'a GitHub repository as OWNER/NAME')
          .optional()
          .describe("recreate the snapshot's labels, milestones, issues, pull requests (with their reviews), releases and commit comments in this empty GitHub repository (OWNER/NAME)"),
        verify: z
          .enum(['connectivity', 'full'])
          .optional()
          .describe('how the result is checked: connectivity (default: recorded checksums and git fsck --connectivity-only) or full (a full git fsck too)'),
      })
      .strict()
      .refine((v) => !(v.to && v.push), { message: 'to and push cannot be combined' })
      .refine((v) => !(v.metadataTo && (v.to || v.push || v.checkout || v.fromArchive || v.fromStore)), { message: 'metadataTo restores the records into GitHub: it takes none of to, push, checkout, fromArchive, fromStore' })
      .refine((v) => !(v.fromArchive && v.snapshot), { message: 'fromArchive restores the snapshot inside the archive; do not name one' }),
    readOnly: false,
    destructive: true,
    openWorld: true,
    action: true,
    dispatch: true,
    run: async (engine, input): Promise<RunResult<RestoreRepoResult | RestoreMetadataResult, 'restore'>> =>
      input.metadataTo ? named('restore', await engine.restoreMetadata(input)) : named('restore', await engine.restore(input)),
  }),
  export: defineOperation({
    name: 'export',
    summary: 'write a snapshot as a tar.gz archive with a sha256 checksum file, or its GitHub metadata as a readable site',
    input: z
      .object({
        snapshot: snapshotName.optional(),
        format: z.literal('tar.gz').optional(),
        output: z.string().min(1).optional(),
        force: z.boolean().optional(),
        metadata: z.boolean().optional().describe("write the snapshot's issues, pull requests and releases as a static HTML site (output: a directory)"),
      })
      .strict()
      .refine((v) => !(v.metadata && v.format), { message: 'metadata writes a site: format does not apply' }),
    readOnly: false,
    destructive: false,
    openWorld: false,
    run: async (engine, { metadata, format, ...input }): Promise<RunResult<ExportRepoResult | ExportSiteResult, 'export'>> =>
      metadata ? named('export', await engine.exportMetadata(input)) : named('export', await engine.exportArchive({ ...input, format })),
  }),
  'store push': defineOperation({
    name: 'store push',
    summary: 'upload every local snapshot the off-site store lacks',
    input: none,
    readOnly: false,
    destructive: false,
    openWorld: true,
    action: true,
    dispatch: true,
    run: async (engine) => named('store push', await engine.storePush()),
  }),
  'store list': defineOperation({
    name: 'store list',
    summary: 'snapshots per repository in the off-site store',
    input: none,
    readOnly: true,
    destructive: false,
    openWorld: true,
    action: true,
    run: async (engine) => named('store list', await engine.storeList()),
  }),
  'store verify': defineOperation({
    name: 'store verify',
    summary: "check that every object the store's manifests name is there with its size; optionally read back all or a share",
    input: z
      .object({
        readData: z.boolean().optional().describe('download every object and check its sha256 (packs against their index)'),
        readDataSubsetPercent: z.number().gt(0).max(100).optional().describe('the same for this percentage of the objects, chosen at random'),
      })
      .strict()
      .refine((v) => !(v.readData && v.readDataSubsetPercent !== undefined), { message: 'give readData or readDataSubsetPercent, not both' }),
    // Reads the store, writes nothing anywhere.
    readOnly: true,
    destructive: false,
    openWorld: true,
    action: true,
    dispatch: true,
    run: async (engine, input) => named('store verify', await engine.storeVerify(input)),
  }),
  'store prune': defineOperation({
    name: 'store prune',
    summary: 'apply store.retention to the off-site store, then delete objects no manifest references (never young or locked ones)',
    input: z.object({ dryRun: z.boolean().optional().describe('say what would go, delete nothing') }).strict(),
    readOnly: false,
    // Deletes manifests and objects from the store.
    destructive: true,
    openWorld: true,
    action: true,
    dispatch: true,
    run: async (engine, input) => named('store prune', await engine.storePrune(input)),
  }),
} as const satisfies Record<string, Operation>;

export type Operations = typeof OPERATIONS;
export type OperationName = keyof Operations;
/** Every operation's result, told apart by `command`: no face needs a cast. */
export type OperationResult = { [K in OperationName]: Awaited<ReturnType<Operations[K]['run']>> }[OperationName];
export type OperationInput<K extends OperationName> = Parameters<Operations[K]['run']>[1];

type Flagged<F extends 'action' | 'dispatch'> = { [K in OperationName]: Operations[K] extends { [P in F]: true } ? K : never }[OperationName];
export type ActionOperation = Flagged<'action'>;

const flagged = <F extends 'action' | 'dispatch'>(flag: F): Flagged<F>[] =>
  (Object.values(OPERATIONS) as Operation[]).filter((o) => (o as Partial<Record<F, boolean>>)[flag]).map((o) => o.name as Flagged<F>);

/** actions/backup's `action` choices, in table order. */
export const ACTION_OPERATIONS: ActionOperation[] = flagged('action');
/** The daily workflow's `action` choices when run by hand. */
export const DISPATCH_OPERATIONS: Flagged<'dispatch'>[] = flagged('dispatch');
