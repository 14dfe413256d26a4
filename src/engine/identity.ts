// Is the upstream still the repository we have been backing up? GitHub's repository id where its API answers,
// the history otherwise (docs/OPERATIONS.md "Upstream identity"). A rename is recorded, not refused.
import { errorMessage } from '../errors.ts';
import { stallSecondsFromEnv } from '../git/deadline.ts';
import { newHistory } from '../git/repo.ts';
import { captures } from '../capture-switches.ts';
import { lookupRepositoryIdentity, type KnownRepositoryRecord } from '../github/repository.ts';
import { readCaptureState, writeCaptureState, type PageMark } from '../github-metadata/capture-state.ts';
import { repositoryPath } from '../github-metadata/requests.ts';
import type { SnapshotMetadata, UpstreamIdentity } from '../metadata.ts';
import type { RefMap } from '../refs.ts';
import { githubRepoOf } from '../targets.ts';
import { wikiParentOf } from '../wiki.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { keepRepositoryAnswer } from './repository-answer.ts';

export type GitHubIdentity = NonNullable<UpstreamIdentity['github']>;

/** An API that does not answer within this long (or BACKUP_STALL_SECONDS, if shorter) cannot answer. */
const LOOKUP_TIMEOUT_SECONDS = 30;

/** Ask GitHub who the target is. Never rejects: an API that cannot answer leaves the history check alone. */
export async function lookUpGitHubIdentity(ctx: EngineContext, target: RepoTarget): Promise<GitHubIdentity | null> {
  return (await askGitHubRepository(ctx, target))?.identity ?? null;
}

export interface GitHubRepositoryAnswer {
  identity: GitHubIdentity;
  /** The record's `default_branch` (the branch upstream's HEAD names); null when the answer carried no record (a 304). */
  defaultBranch: string | null;
}

/** lookUpGitHubIdentity, with the default branch the same answer names (src/engine/first-fetch.ts reads it). */
export async function askGitHubRepository(ctx: EngineContext, target: RepoTarget): Promise<GitHubRepositoryAnswer | null> {
  const named = githubRepoOf(target.url, ctx.serverUrl);
  // A wiki has no repository record of its own (src/wiki.ts): it is judged by its history.
  if (!named || wikiParentOf(target, ctx.serverUrl)) return null;
  try {
    const deadline = AbortSignal.timeout(Math.min(stallSecondsFromEnv() || LOOKUP_TIMEOUT_SECONDS, LOOKUP_TIMEOUT_SECONDS) * 1000);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
    const shared = captures(target, 'settings', ctx.serverUrl);
    const known = await knownRecord(ctx, target, named, shared);
    const { id, fullName, answer } = await lookupRepositoryIdentity({ apiUrl: ctx.settings.apiUrl, token: ctx.github.token, onResponse: ctx.pacer.observe, ...named, signal, ...(known ? { known } : {}) });
    if (shared) keepRepositoryAnswer(ctx, target, answer);
    else if ('data' in answer && answer.etag) await keepIdentityMark(ctx, target, { etag: answer.etag, hasNext: false, id, fullName });
    const asked = `${named.owner}/${named.name}`;
    const identity = { id, fullName, ...(fullName.toLowerCase() === asked.toLowerCase() ? {} : { renamedFrom: asked }) };
    const defaultBranch = 'data' in answer ? (answer.data as { default_branch?: unknown }).default_branch : undefined;
    return { identity, defaultBranch: typeof defaultBranch === 'string' && defaultBranch !== '' ? defaultBranch : null };
  } catch (error) {
    ctx.logger.log('warn', `${target.id}: GitHub did not say which repository this is; judging by history only`, { error: errorMessage(error) });
    return null;
  }
}

/**
 * The repository's record as last kept in state/metadata/ (ETag, id, full name), so the lookup asks conditionally
 * and a quiet day's answer is a 304 (docs/METADATA_FORMAT.md "How it is captured"): the metadata capture's mark of
 * the record when `shared` (settings are captured), else the lookup's own mark.
 */
async function knownRecord(ctx: EngineContext, target: RepoTarget, named: { owner: string; name: string }, shared: boolean): Promise<KnownRepositoryRecord | undefined> {
  const { state } = await readCaptureState(ctx.layout.metadataCaptureState(target));
  const mark = shared ? state.pages[repositoryPath(named.owner, named.name)] : state.identity;
  return mark?.id && mark.fullName ? { etag: mark.etag, id: mark.id, fullName: mark.fullName } : undefined;
}

/** The lookup's own mark of a record that changed (a 304 leaves it as it is), beside the capture's marks. */
async function keepIdentityMark(ctx: EngineContext, target: RepoTarget, mark: PageMark): Promise<void> {
  const file = ctx.layout.metadataCaptureState(target);
  try {
    // A state that cannot be read is left for the capture to report and replace.
    const { state, problem } = await readCaptureState(file);
    if (!problem) await writeCaptureState(file, { ...state, identity: mark });
  } catch (error) {
    // The answer stands; only the next lookup asks unconditionally again.
    ctx.logger.log('warn', `${target.id}: could not keep the repository record's ETag in ${file}`, { error: errorMessage(error) });
  }
}

export interface IdentityVerdict {
  /** Why the fetched refs look like another repository; empty when they do not. */
  problems: string[];
  /** Root commits among the commits this fetch brought; null when they were not walked. */
  newRoots: string[] | null;
}

/**
 * Judge the staged refs against the mirror's refs and the newest snapshot's record. Cheap when something is
 * unchanged (a shared object id proves a shared history); otherwise one walk over the new commits.
 */
export async function judgeIdentity(
  ctx: EngineContext,
  dir: string,
  evidence: { before: RefMap; upstream: RefMap; staged: string; stagingGlob: string; previous: SnapshotMetadata | null; github: GitHubIdentity | null },
): Promise<IdentityVerdict> {
  const { before, upstream, previous, github } = evidence;
  const problems: string[] = [];
  const recorded = previous?.upstream;
  if (github && recorded?.github && github.id !== recorded.github.id) {
    problems.push(`GitHub answers with another repository (id ${github.id}, ${github.fullName}); snapshot ${previous!.name} is of id ${recorded.github.id} (${recorded.github.fullName})`);
  }
  const had = new Set(Object.values(before));
  const brought = Object.values(upstream);
  if (!brought.some((oid) => !had.has(oid))) return { problems, newRoots: [] };
  // A first fetch with no snapshot before it (a new mirror): no history to compare with. Its root commits are left
  // unknown (null), so the snapshot walks them in full (snapshot.ts upstreamOf): one walk instead of two.
  if (!had.size && !previous) return { problems, newRoots: null };
  const history = await newHistory(ctx.git, dir, evidence.staged, evidence.stagingGlob);
  const sharesTip = brought.some((oid) => had.has(oid));
  if (had.size && history.commits && !sharesTip && !history.connected) {
    problems.push(`none of the ${brought.length} refs upstream has now shares any history with the mirror`);
  } else if (!had.size && recorded?.rootCommits.length && history.roots.length && !history.roots.some((r) => recorded.rootCommits.includes(r))) {
    problems.push(`its history has none of the root commits recorded in snapshot ${previous!.name}`);
  }
  return { problems, newRoots: history.roots };
}
