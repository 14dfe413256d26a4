// The review threads and commit comments of restore --metadata-to (docs/RESTORE_RUNBOOK.md "Restoring issues, pull
// requests and releases"): on a real pull request whose commit is in the target, reviews are recreated as reviews with
// their comments on their lines and replies as replies; where GitHub cannot take that (an issue, a commit that is gone,
// a line it refuses), one comment per review or thread quotes the path, the diff hunk and the text, so none is lost.
// Commit comments go on their commit, or are reported as not restored. Every record carries its step's marker, so one
// whose answer was lost is found again (findReviewRecord) instead of created twice.
import { BackupError } from '../errors.ts';
import { placedKey, restoreMarker, type Anchor, type InlineComment, type RestoreStep } from '../github-metadata/restore-plan.ts';
import { asPullKey, doneId, numberOf, StepRefused, type Listed, type Run, type TargetRepository } from './metadata-restore-target.ts';

type Step<K extends RestoreStep['kind']> = Extract<RestoreStep, { kind: K }>;

const on = (parent: string) => parent.replace(':', ' #');

/** The lock reasons GitHub's "lock an issue" endpoint accepts. */
const LOCK_REASONS: ReadonlySet<string> = new Set(['off-topic', 'too heated', 'resolved', 'spam']);

/** Why a review or thread on `commitId` cannot be put on the diff of the recreated `parent`; null when it can. */
export async function whyNotOnTheDiff(target: TargetRepository, parent: string, asPull: boolean, commitId: string | null): Promise<string | null> {
  if (!asPull) return `${on(parent)} is recreated as an issue`;
  if (commitId === null) return 'the backup names no commit for it';
  if (!(await target.hasCommit(commitId))) return `commit ${commitId.slice(0, 12)} is not in ${target.id}`;
  return null;
}

const lineOf = (anchor: Anchor) => ({
  path: anchor.path,
  line: anchor.line,
  side: anchor.side,
  ...(anchor.start ? { start_line: anchor.start.line, start_side: anchor.start.side } : {}),
});
const reviewsRoute = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews';
const reviewCommentsRoute = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/comments';
const found = (records: Listed[], marker: string) => records.find((r) => (r.body ?? '').includes(marker))?.id ?? null;

/** Journal each thread a review put on its line, found by its marker among the review's comments. */
async function notePlaced(run: Run, pull: number, reviewId: number, step: Step<'review'>, inline: InlineComment[]): Promise<void> {
  if (!inline.length) return;
  const comments = await run.target.list(`listing the comments of review ${reviewId} on #${pull}`, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments', { pull_number: pull, review_id: reviewId });
  for (const { comment } of inline) {
    const id = found(comments, restoreMarker(run.source, `thread:${comment.id}`));
    if (id === null) throw new BackupError(`restore of the metadata: GitHub created ${step.key} in ${run.target.id} without its comment on ${comment.path}`);
    await run.note(placedKey(`thread:${comment.id}`), id);
  }
}

/** A comment on the recreated issue or pull request, for what could not go on the diff. */
async function asComment(run: Run, parent: string, body: string, what: string): Promise<number> {
  const number = doneId(run, parent);
  return (await run.target.request<{ id: number }>(`commenting on #${number} (${what})`, 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { issue_number: number, body })).id;
}

export async function performReview(run: Run, step: Step<'review'>): Promise<number> {
  const { target, counts } = run;
  const why = await whyNotOnTheDiff(target, step.parent, run.done.has(asPullKey(numberOf(step.parent))), step.review.commitId);
  if (why === null) {
    const pull = doneId(run, step.parent);
    const send = (inline: InlineComment[]) =>
      target.requestOrRefusal<{ id: number }>(422, `creating review ${step.review.id} on #${pull}`, 'POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', {
        pull_number: pull,
        commit_id: step.review.commitId,
        // The verdict is in the header: GitHub refuses an approval of one's own pull request, and it would not be ours.
        event: 'COMMENT',
        body: step.body,
        comments: inline.map((i) => ({ ...lineOf(i.anchor!), body: i.body })),
      });
    let inline = step.inline;
    let answer = await send(inline);
    if ('refused' in answer && inline.length) {
      // A line GitHub does not take: the review without it; its threads then go on their lines alone, or are quoted.
      run.ctx.logger.log('warn', `GitHub refused the comments of review ${step.review.id} on #${pull} in ${target.id} (${answer.refused}); creating the review without them`);
      inline = [];
      answer = await send(inline);
    }
    if ('data' in answer) {
      await notePlaced(run, pull, answer.data.id, step, inline);
      counts.reviews++;
      counts.reviewComments += inline.length;
      return answer.data.id;
    }
    run.fellBack.push({ what: `review ${step.review.id} on ${on(step.parent)}`, reason: `GitHub refused it: ${answer.refused}` });
  } else if (run.done.has(asPullKey(numberOf(step.parent)))) {
    run.fellBack.push({ what: `review ${step.review.id} on ${on(step.parent)}`, reason: why });
  }
  counts.reviewsAsComments++;
  return asComment(run, step.parent, step.body, `review ${step.review.id}`);
}

export async function performThread(run: Run, step: Step<'thread'>): Promise<number> {
  const { target, counts } = run;
  // Its review put it on its line.
  const placed = run.done.get(placedKey(step.key));
  if (placed !== undefined) return placed;
  const asPull = run.done.has(asPullKey(numberOf(step.parent)));
  const { anchor } = step.root;
  let why = anchor === null ? 'the backup names no line for it' : await whyNotOnTheDiff(target, step.parent, asPull, anchor.commitId);
  if (why === null && anchor) {
    const pull = doneId(run, step.parent);
    const answer = await target.requestOrRefusal<{ id: number }>(422, `creating review comment ${step.root.comment.id} on #${pull}`, 'POST /repos/{owner}/{repo}/pulls/{pull_number}/comments', {
      pull_number: pull,
      commit_id: anchor.commitId,
      ...lineOf(anchor),
      body: step.root.body,
    });
    if ('data' in answer) {
      await run.note(placedKey(step.key), answer.data.id);
      counts.reviewComments++;
      return answer.data.id;
    }
    why = `GitHub refused the line: ${answer.refused}`;
  }
  if (asPull) run.fellBack.push({ what: `review thread ${step.root.comment.id} on ${on(step.parent)}`, reason: why! });
  counts.threadsAsComments++;
  return asComment(run, step.parent, step.body, `review thread ${step.root.comment.id}`);
}

export async function performReply(run: Run, step: Step<'reply'>): Promise<number> {
  const root = run.done.get(placedKey(step.thread));
  // The thread is one quoting comment, this reply in it.
  if (root === undefined) return doneId(run, step.thread);
  const pull = doneId(run, step.parent);
  const created = await run.target.request<{ id: number }>(`replying to review comment ${root} on #${pull}`, 'POST /repos/{owner}/{repo}/pulls/{pull_number}/comments', { pull_number: pull, body: step.body, in_reply_to: root });
  run.counts.reviewComments++;
  return created.id;
}

/** Why a commit comment cannot be recreated now (its commit is not in the target); null when it can. */
export async function whyNoCommit(target: TargetRepository, step: Step<'commitComment'>): Promise<string | null> {
  if (await target.hasCommit(step.comment.commitId)) return null;
  return `commit ${step.comment.commitId.slice(0, 12)} is not in ${target.id} (restore --push the git data first, then run this again)`;
}

export async function performCommitComment(run: Run, step: Step<'commitComment'>): Promise<number> {
  const { comment } = step;
  const route = 'POST /repos/{owner}/{repo}/commits/{commit_sha}/comments';
  const what = `commenting on commit ${comment.commitId.slice(0, 12)}`;
  // `position` is the line's place in the commit's diff; `line` is GitHub's older name for it.
  const place = comment.path === null ? {} : { path: comment.path, ...(comment.position !== null ? { position: comment.position } : comment.line !== null ? { line: comment.line } : {}) };
  let answer = await run.target.requestOrRefusal<{ id: number }>(422, what, route, { commit_sha: comment.commitId, body: step.body, ...place });
  if ('refused' in answer && Object.keys(place).length) {
    // The header names the path and line: on the commit as a whole, the text is kept.
    run.fellBack.push({ what: `commit comment ${comment.id}`, reason: `GitHub refused its line: ${answer.refused}` });
    answer = await run.target.requestOrRefusal<{ id: number }>(422, what, route, { commit_sha: comment.commitId, body: step.body });
  }
  if ('refused' in answer) throw new StepRefused(`GitHub refused it: ${answer.refused}`);
  run.counts.commitComments++;
  return answer.data.id;
}

export async function performLock(run: Run, step: Step<'lock'>): Promise<number> {
  const number = doneId(run, step.parent);
  const what = `locking #${number}`;
  // The reason as captured, when it is one GitHub takes; a capture from before reasons were kept has none.
  const reason = step.issue.lockReason && LOCK_REASONS.has(step.issue.lockReason) ? { lock_reason: step.issue.lockReason } : {};
  const answer = await run.target.requestOrRefusal(422, what, 'PUT /repos/{owner}/{repo}/issues/{issue_number}/lock', { issue_number: number, ...reason });
  if ('refused' in answer) {
    // Locked by a run killed before it journaled the lock: that is what this step wanted.
    const issue = await run.target.request<{ locked?: boolean }>(`reading #${number}`, 'GET /repos/{owner}/{repo}/issues/{issue_number}', { issue_number: number });
    if (!issue.locked) throw new BackupError(`restore of the metadata: GitHub refused ${what} in ${run.target.id}: ${answer.refused}`);
    return number;
  }
  run.counts.locked++;
  return number;
}

/**
 * The record a review, thread, reply or commit comment step created in a run whose answer never reached us, found by
 * its marker wherever that step may have put it; null when there is none.
 */
export async function findReviewRecord(run: Run, step: Step<'review' | 'thread' | 'reply' | 'commitComment'>): Promise<number | null> {
  const marker = restoreMarker(run.source, step.key);
  const { target } = run;
  if (step.kind === 'commitComment') {
    const sha = step.comment.commitId;
    return found(await target.list(`listing the comments of commit ${sha.slice(0, 12)}`, 'GET /repos/{owner}/{repo}/commits/{commit_sha}/comments', { commit_sha: sha }), marker);
  }
  const number = doneId(run, step.parent);
  const asPull = run.done.has(asPullKey(numberOf(step.parent)));
  if (asPull && step.kind === 'review') {
    const review = found(await target.list(`listing the reviews of #${number}`, reviewsRoute, { pull_number: number }), marker);
    if (review !== null) {
      // Which of its threads it placed: those whose comments it holds.
      const held = await target.list(`listing the comments of review ${review} on #${number}`, 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments', { pull_number: number, review_id: review });
      for (const { comment } of step.inline) {
        const id = found(held, restoreMarker(run.source, `thread:${comment.id}`));
        if (id !== null) await run.note(placedKey(`thread:${comment.id}`), id);
      }
      return review;
    }
  }
  if (asPull && step.kind !== 'review') {
    const comment = found(await target.list(`listing the review comments of #${number}`, reviewCommentsRoute, { pull_number: number }), marker);
    if (comment !== null) {
      if (step.kind === 'thread') await run.note(placedKey(step.key), comment);
      return comment;
    }
  }
  // A reply is on the diff or nowhere of its own; a review or thread may have been quoted in a comment.
  return step.kind === 'reply' ? null : found(await target.comments(number), marker);
}
