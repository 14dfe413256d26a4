// restore --metadata-to OWNER/NAME: a snapshot's labels, milestones, issues, pull requests, releases and commit
// comments recreated in an empty GitHub repository through the API (docs/RESTORE_RUNBOOK.md "Restoring issues, pull
// requests and releases"). The steps and their text come from src/github-metadata/restore-plan.ts; reviews and commit
// comments are sent by src/engine/metadata-restore-reviews.ts; a journal of what was created
// (src/engine/metadata-restore-state.ts) makes a second run, or a run after a kill, create nothing twice. Rate limits
// are waited out by the client (src/github/client.ts).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError, AuthError, BackupError, UsageError } from '../errors.ts';
import { createGitHubClient } from '../github/client.ts';
import { readSnapshotMetadata, type SnapshotMetadata } from '../github-metadata/read.ts';
import { describeStep, planRestore, restoreMarker, type RestoreStep, type StepKind } from '../github-metadata/restore-plan.ts';
import { withLock } from '../lock.ts';
import { isValidOwner, isValidRepoName } from '../naming.ts';
import type { RepoTarget, RestoreMetadataResult } from '../types.ts';
import type { RestoreOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { findReviewRecord, performCommitComment, performLock, performReply, performReview, performThread, whyNoCommit, whyNotOnTheDiff } from './metadata-restore-reviews.ts';
import { openJournal, readJournal } from './metadata-restore-state.ts';
import { asPullKey, asPullsIn, doneId, noCounts, numberOf, StepRefused, TargetRepository, type Run } from './metadata-restore-target.ts';
import { whileReading } from './readers.ts';
import { assertSafeStructure, checkSnapshotStructure } from './structure.ts';
import { resolveSnapshotName } from './verify.ts';

/** OWNER/NAME of the repository to recreate the records in. */
export function parseMetadataTarget(spec: string): { owner: string; name: string; id: string } {
  const [owner = '', name = '', ...rest] = spec.split('/');
  if (rest.length || !isValidOwner(owner) || !isValidRepoName(name)) throw new UsageError(`restore: ${JSON.stringify(spec)} is not a GitHub repository as OWNER/NAME`);
  return { owner, name, id: `${owner}/${name}` };
}

/** A pull request is recreated as one when its branches are in the target (after restore --push) and it came from the repository itself. */
async function asPullRequest(target: TargetRepository, step: Extract<RestoreStep, { kind: 'issue' }>, source: string): Promise<boolean> {
  const pull = step.pull;
  if (!pull) return false;
  const fromFork = pull.head.repository !== null && pull.head.repository.toLowerCase() !== source.toLowerCase();
  return !fromFork && (await target.hasBranch(pull.base.ref)) && (await target.hasBranch(pull.head.ref));
}

/** What the update step sends: a real pull request's labels and milestone (its creation takes none), and the closed state. */
function updateOf(step: Extract<RestoreStep, { kind: 'update' }>, milestone: number | null, asPull: boolean): Record<string, unknown> | null {
  const update: Record<string, unknown> = {};
  if (asPull) {
    if (step.issue.labels.length) update.labels = step.issue.labels;
    if (milestone !== null) update.milestone = milestone;
  }
  if (step.issue.state === 'closed') {
    update.state = 'closed';
    // GitHub accepts these two; a merged pull request recreated as an issue was completed.
    const reason = step.issue.stateReason === 'not_planned' ? 'not_planned' : 'completed';
    update.state_reason = reason;
  }
  return Object.keys(update).length ? update : null;
}

/** The asset's bytes, checked against the sha256 the capture recorded; or why they cannot be uploaded. */
async function assetBytes(metadata: SnapshotMetadata, step: Extract<RestoreStep, { kind: 'asset' }>): Promise<Buffer | string> {
  const { asset } = step;
  if (!asset.sha256) return `not in the backup${asset.skipped ? `: ${asset.skipped}` : ''}`;
  const file = metadata.assetFile(asset.sha256);
  if (!file) return 'its file is missing from the snapshot';
  const bytes = await readFile(file);
  if (createHash('sha256').update(bytes).digest('hex') !== asset.sha256) return 'its file in the snapshot is damaged (sha256 mismatch; run verify)';
  return bytes;
}

/**
 * The record a step created in an earlier run whose answer never reached us (killed, or the connection dropped after
 * GitHub acted), found by the marker in its body or by its unique name; null when there is none.
 */
async function findCreated(run: Run, step: RestoreStep): Promise<number | null> {
  const marker = restoreMarker(run.source, step.key);
  const { target } = run;
  switch (step.kind) {
    case 'issue':
      return run.existing.find((i) => (i.body ?? '').includes(marker))?.number ?? null;
    case 'comment':
      return (await target.comments(doneId(run, step.parent))).find((c) => (c.body ?? '').includes(marker))?.id ?? null;
    case 'milestone':
      return findMilestone(run, step.milestone.title);
    case 'release': {
      const release = await target.requestOr<{ id: number; body?: string | null; upload_url: string }>(404, `looking for release ${step.release.tagName}`, 'GET /repos/{owner}/{repo}/releases/tags/{tag}', { tag: step.release.tagName });
      if (!release || !(release.body ?? '').includes(marker)) return null;
      target.rememberUploadUrl(release.id, release.upload_url);
      return release.id;
    }
    case 'asset': {
      const assets = await target.request<Array<{ id: number; name: string }>>('listing release assets', 'GET /repos/{owner}/{repo}/releases/{release_id}/assets', { release_id: doneId(run, step.parent), per_page: 100 });
      return assets.find((a) => a.name === step.asset.name)?.id ?? null;
    }
    case 'review':
    case 'thread':
    case 'reply':
    case 'commitComment':
      return findReviewRecord(run, step);
    default:
      // Labels, updates and locks are idempotent: sending them again changes nothing.
      return null;
  }
}

async function findMilestone(run: Run, title: string): Promise<number | null> {
  const all = await run.target.request<Array<{ number: number; title: string }>>('listing milestones', 'GET /repos/{owner}/{repo}/milestones', { state: 'all', per_page: 100 });
  return all.find((m) => m.title === title)?.number ?? null;
}

/** Send one step's request (an asset's checked bytes beside it); the new record's number or id. */
async function perform(run: Run, step: RestoreStep, assetData: Buffer | null): Promise<number> {
  const { target, counts } = run;
  switch (step.kind) {
    case 'label': {
      const { name, color, description } = step.label;
      const created = await target.requestOr<{ id: number }>(422, `creating label ${name}`, 'POST /repos/{owner}/{repo}/labels', { name, color, description: description ?? '' });
      if (created) {
        counts.labels++;
        return created.id;
      }
      // A new repository comes with GitHub's default labels (bug, enhancement, ...): ours take their colour and text.
      return (await target.request<{ id: number }>(`updating label ${name}`, 'PATCH /repos/{owner}/{repo}/labels/{name}', { name, color, description: description ?? '' })).id;
    }
    case 'milestone': {
      const { title, state, description, dueOn } = step.milestone;
      const created = await target.requestOr<{ number: number }>(422, `creating milestone ${title}`, 'POST /repos/{owner}/{repo}/milestones', { title, state, description: description ?? '', ...(dueOn ? { due_on: dueOn } : {}) });
      if (created) counts.milestones++;
      const number = created?.number ?? (await findMilestone(run, title));
      if (number === null) throw new BackupError(`restore of the metadata: GitHub refused milestone ${JSON.stringify(title)} in ${target.id} and none of that title is there`);
      return number;
    }
    case 'issue': {
      const { issue, pull } = step;
      if (pull && (await asPullRequest(target, step, run.source))) {
        const created = await target.requestOr<{ number: number }>(422, `creating pull request #${issue.number}`, 'POST /repos/{owner}/{repo}/pulls', { title: issue.title, head: pull.head.ref, base: pull.base.ref, body: step.body, draft: pull.draft });
        if (created) {
          counts.pulls++;
          await run.note(asPullKey(issue.number), created.number);
          return created.number;
        }
        // GitHub refused it (no commits between the branches, say): the conversation is kept as an issue instead.
        run.ctx.logger.log('warn', `GitHub refused pull request #${issue.number} in ${target.id}; recreating it as an issue`);
      }
      const milestone = issue.milestone === null ? null : (run.done.get(`milestone:${issue.milestone}`) ?? null);
      const created = await target.request<{ number: number }>(`creating issue #${issue.number}`, 'POST /repos/{owner}/{repo}/issues', { title: issue.title, body: step.body, labels: issue.labels, ...(milestone !== null ? { milestone } : {}) });
      if (pull) counts.pullsAsIssues++;
      else counts.issues++;
      return created.number;
    }
    case 'comment': {
      const created = await target.request<{ id: number }>(`commenting on #${doneId(run, step.parent)}`, 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { issue_number: doneId(run, step.parent), body: step.body });
      counts.comments++;
      return created.id;
    }
    case 'update': {
      const number = doneId(run, step.parent);
      const milestone = step.issue.milestone === null ? null : (run.done.get(`milestone:${step.issue.milestone}`) ?? null);
      const update = updateOf(step, milestone, run.done.has(asPullKey(step.issue.number)));
      if (update) {
        await target.request(`updating #${number}`, 'PATCH /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: number, ...update });
        if (update.state === 'closed') counts.closed++;
      }
      return number;
    }
    case 'release': {
      const { release } = step;
      const created = await target.request<{ id: number; upload_url: string }>(`creating release ${release.tagName}`, 'POST /repos/{owner}/{repo}/releases', {
        tag_name: release.tagName,
        target_commitish: release.targetCommitish,
        name: release.name ?? release.tagName,
        body: step.body,
        draft: release.draft,
        prerelease: release.prerelease,
      });
      target.rememberUploadUrl(created.id, created.upload_url);
      counts.releases++;
      return created.id;
    }
    case 'asset': {
      if (!assetData) throw new BackupError(`restore of the metadata: no bytes for asset ${step.asset.name}`);
      const url = await target.uploadUrl(doneId(run, step.parent));
      const created = await target.request<{ id: number }>(`uploading asset ${step.asset.name}`, `POST ${url}`, {
        name: step.asset.name,
        ...(step.asset.label ? { label: step.asset.label } : {}),
        data: assetData,
        headers: { 'content-type': step.asset.contentType || 'application/octet-stream' },
      });
      counts.assets++;
      return created.id;
    }
    case 'review':
      return performReview(run, step);
    case 'thread':
      return performThread(run, step);
    case 'reply':
      return performReply(run, step);
    case 'lock':
      return performLock(run, step);
    case 'commitComment':
      return performCommitComment(run, step);
  }
}

/** Steps that create a record GitHub would not refuse a second time: their request is journaled as pending first. */
const CREATES_DUPLICATES: ReadonlySet<StepKind> = new Set(['issue', 'comment', 'review', 'thread', 'reply', 'release', 'asset', 'commitComment']);

/**
 * What a step needs before it runs: why it cannot (an asset not in the backup, a commit comment's commit not in the
 * target), an asset's checked bytes, or null.
 */
async function readyStep(metadata: SnapshotMetadata, target: TargetRepository, step: RestoreStep): Promise<string | Buffer | null> {
  if (step.kind === 'asset') return assetBytes(metadata, step);
  if (step.kind === 'commitComment') return whyNoCommit(target, step);
  return null;
}

/**
 * What a dry run says a step would do, in the form a real run would give it (assuming GitHub takes every line of the
 * diff); null when it would send nothing. `asPulls` and `placed` carry what the earlier steps would do.
 */
async function dryRunLine(target: TargetRepository, step: RestoreStep, source: string, asPulls: Set<number>, placed: Set<string>, fellBack: RestoreMetadataResult['fellBack']): Promise<string | null> {
  const asPull = 'parent' in step && asPulls.has(numberOf(step.parent));
  const onTheDiff = async (what: string, commitId: string | null) => {
    const why = await whyNotOnTheDiff(target, (step as { parent: string }).parent, asPull, commitId);
    if (why !== null && asPull) fellBack.push({ what, reason: why });
    return why;
  };
  switch (step.kind) {
    case 'issue': {
      const real = await asPullRequest(target, step, source);
      if (real) asPulls.add(step.issue.number);
      return describeStep(step, { asPull: real });
    }
    case 'update':
      return updateOf(step, step.issue.milestone, asPulls.has(step.issue.number)) ? describeStep(step) : null;
    case 'review': {
      const why = await onTheDiff(describeStep(step), step.review.commitId);
      if (why !== null) return describeStep(step, { as: 'as a comment' });
      for (const { comment } of step.inline) placed.add(`thread:${comment.id}`);
      return describeStep(step, { as: `as a review${step.inline.length ? ` with ${step.inline.length} comment(s) on their lines` : ''}` });
    }
    case 'thread': {
      if (placed.has(step.key)) return null;
      const why = step.root.anchor === null ? 'the backup names no line for it' : await onTheDiff(describeStep(step), step.root.anchor.commitId);
      if (why !== null) return describeStep(step, { as: 'as a comment quoting the diff and every reply' });
      placed.add(step.key);
      return describeStep(step, { as: 'on its line' });
    }
    case 'reply':
      return placed.has(step.thread) ? describeStep(step) : null;
    default:
      return describeStep(step);
  }
}

/** The counts per kind of step of one run (src/types.ts RestoreMetadataResult.byKind). */
class Tally {
  readonly byKind: RestoreMetadataResult['byKind'] = {};
  readonly alreadyDone: number;
  constructor(steps: RestoreStep[], done: ReadonlyMap<string, number>) {
    const present = steps.filter((s) => done.has(s.key));
    for (const s of present) this.of(s.kind).alreadyPresent++;
    this.alreadyDone = present.length;
  }

  private of(kind: StepKind) {
    return (this.byKind[kind] ??= { created: 0, alreadyPresent: 0, skipped: 0 });
  }

  created(kind: StepKind): void {
    this.of(kind).created++;
  }

  skipped(kind: StepKind): void {
    this.of(kind).skipped++;
  }
}

export async function restoreMetadataRepo(ctx: EngineContext, source: RepoTarget, options: RestoreOptions): Promise<RestoreMetadataResult> {
  const to = parseMetadataTarget(options.metadataTo ?? '');
  const name = await resolveSnapshotName(ctx, source, options.snapshot);
  return whileReading(ctx, source, name, 'restore', async () => {
    const dir = join(ctx.layout.snapshotParent(source), name);
    const what = `restore the metadata of ${source.id} ${name}`;
    const structure = await checkSnapshotStructure(dir);
    assertSafeStructure(structure, what);
    const metadata = await readSnapshotMetadata(ctx.git, dir, structure, what);
    const journalFile = ctx.layout.metadataRestoreJournal(to);
    const client = createGitHubClient({
      apiUrl: ctx.settings.apiUrl,
      token: ctx.settings.token,
      signal: ctx.signal,
      onWait: (seconds, why) => ctx.logger.log('warn', `restore of the metadata into ${to.id}: waiting ${seconds}s (${why})`),
    });
    const target = new TargetRepository(ctx, client, to.owner, to.name);
    const steps = planRestore(metadata.records, source.id, ctx.serverUrl);
    const base = { repo: source.id, snapshot: name, metadataTarget: to.id, journal: journalFile };

    const prepare = async (done: ReadonlyMap<string, number>, pending: string | null) => {
      await target.exists();
      const existing = await target.issues();
      // Ours: what the journal maps, and the record of the step whose answer was lost (it carries that step's marker).
      const ours = new Set([...done].filter(([key]) => key.startsWith('issue:') || key.startsWith('pull:')).map(([, id]) => id));
      const pendingMarker = pending ? restoreMarker(source.id, pending) : null;
      const foreign = existing.filter((i) => !ours.has(i.number) && !(pendingMarker && (i.body ?? '').includes(pendingMarker)));
      if (foreign.length && !options.force) {
        const shown = foreign.slice(0, 5).map((i) => `#${i.number}`).join(', ');
        throw new UsageError(
          `refusing to restore the metadata into ${to.id}: it already has ${foreign.length} issue(s) or pull request(s) this restore did not create (${shown}${foreign.length > 5 ? ', ...' : ''}). ` +
            'Restore into a new, empty repository, or pass --force to add the records beside them.',
        );
      }
      return existing;
    };

    if (options.dryRun) {
      const journal = await readJournal(journalFile, source.id, to.id);
      const done = journal?.done ?? new Map<string, number>();
      await prepare(done, journal?.pending ?? null);
      const tally = new Tally(steps, done);
      const asPulls = asPullsIn(done);
      // Threads a real run would put on their lines (GitHub taking every line), whose replies are then replies.
      const placed = new Set([...done.keys()].filter((k) => k.startsWith('placed:')).map((k) => k.slice('placed:'.length)));
      const planned: string[] = [];
      const notRestored: RestoreMetadataResult['notRestored'] = [];
      const fellBack: RestoreMetadataResult['fellBack'] = [];
      for (const step of steps) {
        if (done.has(step.key)) continue;
        const skip = await readyStep(metadata, target, step);
        if (typeof skip === 'string') {
          notRestored.push({ kind: step.kind, what: describeStep(step), reason: skip });
          tally.skipped(step.kind);
          continue;
        }
        const line = await dryRunLine(target, step, source.id, asPulls, placed, fellBack);
        if (line === null) continue;
        planned.push(line);
        tally.created(step.kind);
      }
      return { ...base, dryRun: true, created: noCounts(), alreadyDone: tally.alreadyDone, byKind: tally.byKind, planned, notRestored, fellBack };
    }

    if (!ctx.settings.token) throw new AuthError(`restore of the metadata into ${to.id} needs a token that can write its issues, pull requests and releases (GITHUB_TOKEN)`);
    // One restore at a time into a target: two would each create what the other has not journaled yet.
    return withLock(ctx.layout.metadataRestoreLock(to), { command: `restore --metadata-to ${to.id}`, logger: ctx.logger, clock: ctx.clock }, async () => {
      // Checked before the journal is written: a refused or missing target leaves nothing behind.
      const known = await readJournal(journalFile, source.id, to.id);
      const existing = await prepare(known?.done ?? new Map<string, number>(), known?.pending ?? null);
      const journal = await openJournal(journalFile, source.id, to.id);
      const tally = new Tally(steps, journal.done);
      const run: Run = { ctx, target, source: source.id, metadata, done: journal.done, existing, counts: noCounts(), fellBack: [], note: (key, id) => journal.record(key, id) };
      const notRestored: RestoreMetadataResult['notRestored'] = [];
      for (const step of steps) {
        if (ctx.signal?.aborted) throw new AbortedError(`restore of the metadata into ${to.id} stopped on request; run it again to go on where it stopped`);
        if (journal.done.has(step.key)) continue;
        const ready = await readyStep(metadata, target, step);
        if (typeof ready === 'string') {
          notRestored.push({ kind: step.kind, what: describeStep(step), reason: ready });
          tally.skipped(step.kind);
          continue;
        }
        if (journal.pending === step.key) {
          const found = await findCreated(run, step);
          if (found !== null) {
            ctx.logger.log('info', `restore of the metadata into ${to.id}: ${step.key} was created by the interrupted run; not created again`);
            await journal.record(step.key, found);
            continue;
          }
        }
        if (CREATES_DUPLICATES.has(step.kind)) await journal.markPending(step.key);
        const writes = target.writes;
        let id: number;
        try {
          id = await perform(run, step, ready);
        } catch (error) {
          if (!(error instanceof StepRefused)) throw error;
          // Not journaled: the next run tries it again (after looking for it by its marker, as it is pending).
          notRestored.push({ kind: step.kind, what: describeStep(step), reason: error.message });
          tally.skipped(step.kind);
          continue;
        }
        await journal.record(step.key, id);
        if (target.writes > writes) tally.created(step.kind);
      }
      for (const f of run.fellBack) ctx.logger.log('warn', `restore of the metadata into ${to.id}: ${f.what} recreated as a comment: ${f.reason}`);
      ctx.logger.log('info', `restored the metadata of ${source.id} ${name} into ${to.id}`, { ...run.counts, alreadyDone: tally.alreadyDone });
      return { ...base, dryRun: false, created: run.counts, alreadyDone: tally.alreadyDone, byKind: tally.byKind, planned: [], notRestored, fellBack: run.fellBack };
    });
  });
}
