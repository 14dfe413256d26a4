// sync's metadata step (docs/METADATA_FORMAT.md): for a repository on GitHub, after the git fetch and before the
// snapshot, capture its records into the metadata repository so the snapshot carries them as of today. A kind that
// fails is reported in the repository's result and the log; it never fails the git backup (docs/OPERATIONS.md
// "What is captured").
import { AbortedError, errorMessage } from '../errors.ts';
import { currentDeadline, stallSecondsFromEnv } from '../git/deadline.ts';
import type { WaitBudget } from '../github/client.ts';
import { captureMetadata, type MetadataCaptureResult } from '../github-metadata/capture.ts';
import { forgetRecordFacts } from '../github-metadata/capture-state.ts';
import { METADATA_KINDS } from '../github-metadata/format.ts';
import { metadataSelection } from '../github-metadata/switches.ts';
import { githubRepoOf } from '../targets.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { takeRepositoryAnswer } from './repository-answer.ts';
import { wikiParentOf } from '../wiki.ts';

/**
 * The rate-limit wait of a run's captures comes out of one budget (BACKUP_API_MAX_WAIT_SECONDS): a run over a
 * hundred repositories waits at most that long in all, then each repository stops at its first limit and resumes
 * next run. An engine is one run (the daemon makes one per run).
 */
const waitBudgets = new WeakMap<EngineContext, WaitBudget>();

/** A request that has not answered within this long (or BACKUP_STALL_SECONDS, if shorter) is given up. */
const REQUEST_TIMEOUT_SECONDS = 60;

/** The capture's result, or null for a repository not on GitHub or with every kind switched off (git data only). */
export async function captureRepoMetadata(ctx: EngineContext, target: RepoTarget): Promise<MetadataCaptureResult | null> {
  const named = githubRepoOf(target.url, ctx.serverUrl);
  const selection = metadataSelection(target.metadata);
  // A wiki companion (src/wiki.ts) is git data only: its repository's records are captured with the repository.
  if (!named || wikiParentOf(target, ctx.serverUrl) || !Object.values(selection.kinds).some(Boolean)) return null;
  let waitBudget = waitBudgets.get(ctx);
  if (!waitBudget) waitBudgets.set(ctx, (waitBudget = { waitedSeconds: 0 }));
  try {
    const result = await captureMetadata({
      apiUrl: ctx.settings.apiUrl,
      token: ctx.github.token,
      onResponse: ctx.pacer.observe,
      owner: named.owner,
      name: named.name,
      repoDir: ctx.layout.metadataRepo(target),
      assetsDir: ctx.layout.metadataAssets(target),
      stateFile: ctx.layout.metadataCaptureState(target),
      selection,
      git: ctx.git,
      redactor: ctx.redactor,
      clock: ctx.clock,
      signal: ctx.signal,
      deadline: currentDeadline()?.signal,
      waitBudget,
      requestTimeoutSeconds: Math.min(stallSecondsFromEnv() || REQUEST_TIMEOUT_SECONDS, REQUEST_TIMEOUT_SECONDS),
      onWait: (seconds, why) => ctx.logger.log('warn', `${target.id}: GitHub metadata: waiting ${seconds} s out (${why})`),
      onWarning: (message) => ctx.logger.log('warn', `${target.id}: GitHub metadata: ${message}`),
      repositoryAnswer: takeRepositoryAnswer(ctx, target),
    });
    for (const [kind, capture] of Object.entries(result.kinds)) {
      if (capture.state === 'failed' || capture.state === 'partial') ctx.logger.log('warn', `${target.id}: GitHub metadata ${kind} ${capture.state}: ${capture.reason ?? ''}`);
      for (const skipped of capture.skipped ?? []) ctx.logger.log('warn', `${target.id}: GitHub metadata ${kind}: ${skipped.what} not kept: ${skipped.reason}`);
    }
    ctx.logger.log('info', `${target.id}: GitHub metadata captured`, {
      commit: result.commit,
      committed: result.committed,
      changed: result.changedDocuments,
      ...Object.fromEntries(Object.entries(result.kinds).map(([kind, k]) => [kind, `${k.state} ${k.count}`])),
    });
    return result;
  } catch (error) {
    if (error instanceof AbortedError || ctx.signal?.aborted) throw error;
    // The metadata repository or the disk failed: the git backup goes on, and the result says why.
    const reason = ctx.redactor.redact(`the capture failed: ${errorMessage(error)}`);
    ctx.logger.log('error', `${target.id}: GitHub metadata ${reason}`);
    await forgetRecordFacts(ctx.layout.metadataCaptureState(target));
    return {
      commit: null,
      committed: false,
      capturedAt: ctx.clock().toISOString(),
      kinds: Object.fromEntries(METADATA_KINDS.map((kind) => [kind, { state: 'failed', count: 0, reason }])),
      changedDocuments: 0,
    };
  }
}
