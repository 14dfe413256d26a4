// restore --metadata-to after restore --push, through the CLI (docs/RESTORE_RUNBOOK.md "Restoring issues, pull requests
// and releases"): the target's git data is a real bare repository the push filled, and the stand-in
// (test/helpers/github-restore-target.ts) answers reviews, review comments, replies, commit comments and locks as
// GitHub does, refusing a line outside the real diff. A pull request whose branches came back is a pull request with
// its reviews on its lines and replies as replies; what GitHub refuses, or what names a commit that is gone, is quoted
// in a comment; a second run, or one after a kill just after GitHub created a review, creates nothing twice; and no
// body the stand-in received mentions an original author.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitCommentSchema, issueSchema, pullSchema, type Issue, type Pull, type ReviewComment } from '../src/github-metadata/format.ts';
import { restoreMarker } from '../src/github-metadata/restore-plan.ts';
import type { RestoreMetadataResult, RunResult } from '../src/types.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { envForFile } from './helpers/env.ts';
import { runCli, startCli } from './helpers/cli.ts';
import { git, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';
import { mentionsIn, RestoreTargetModel } from './helpers/github-restore-target.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';
import { backupWithMetadata } from './helpers/metadata-snapshot.ts';

const TOKEN = 'ghp_reviewRestoreSecret0123456789abcdef';
const cleanups = cleanupAfterEach();
// A "second" of waiting, or of the pacing GitHub asks between writes, is 10 ms here (src/github/client.ts).
envForFile({ BACKUP_RETRY_BASE_MS: '10' });

const AUTHORS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const t = (day: number) => `2026-04-${String(day).padStart(2, '0')}T12:00:00Z`;
const MISSING_COMMIT = 'd'.repeat(40);

/** A `topic` branch on the upstream, not merged: topic.txt added (12 lines), then its line 3 changed. */
function addTopicBranch(upstream: Upstream): { added: string; head: string; base: string } {
  const base = git(upstream.work, 'rev-parse', 'main').trim();
  git(upstream.work, 'checkout', '--quiet', '-b', 'topic');
  const file = join(upstream.work, 'topic.txt');
  const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  git(upstream.work, 'add', 'topic.txt');
  git(upstream.work, 'commit', '--quiet', '-m', 'topic: add topic.txt');
  const added = git(upstream.work, 'rev-parse', 'HEAD').trim();
  lines[2] = 'line 3, renamed';
  writeFileSync(file, `${lines.join('\n')}\n`);
  git(upstream.work, 'commit', '--quiet', '-am', 'topic: rename line 3');
  const head = git(upstream.work, 'rev-parse', 'HEAD').trim();
  git(upstream.work, 'checkout', '--quiet', 'main');
  upstream.push('topic');
  return { added, head, base };
}

const HUNK = '@@ -0,0 +1,12 @@\n+line 1\n+line 2\n+line 3, renamed';

function reviewComment(id: number, fields: Partial<ReviewComment> & { commitId: string }): ReviewComment {
  return { id, author: 'bob', body: `comment ${id}`, createdAt: t(3), updatedAt: t(3), reviewId: null, inReplyTo: null, path: 'topic.txt', diffHunk: HUNK, line: 3, originalLine: 3, side: 'RIGHT', originalCommitId: fields.commitId, ...fields };
}

const conversation = (number: number, fields: Partial<Issue>): Issue =>
  issueSchema.parse({ number, title: `Record ${number}`, body: `Body of ${number}`, state: 'open', stateReason: null, author: 'alice', createdAt: t(1), updatedAt: t(1), closedAt: null, labels: [], assignees: [], milestone: null, locked: false, comments: [], ...fields });

/**
 * The records: a locked issue with reactions; pull request #2 from `topic` (locked) whose reviews put threads on lines
 * of its diff, one on a line outside it (99), one on a commit that is gone, one on the older commit, a reply in each;
 * pull request #3 from a fork (an issue: its review is quoted); commit comments on a line, on a line outside the diff,
 * and on a commit that is gone.
 */
function records(upstream: Upstream) {
  const { added, head, base } = addTopicBranch(upstream);
  const issue = conversation(1, { locked: true, lockReason: 'too heated', reactions: { '+1': 3, hooray: 1, eyes: 0 }, comments: [{ id: 11, author: 'carol', body: 'Seen it.', createdAt: t(2), updatedAt: t(2), reactions: { heart: 2 } }] });
  const pull = (number: number, fields: Partial<Pull>): Pull =>
    pullSchema.parse({
      ...conversation(number, { author: 'carol' }),
      draft: false,
      merged: false,
      mergedAt: null,
      mergeCommitSha: null,
      base: { ref: 'main', sha: base, repository: 'acme/widgets' },
      head: { ref: 'topic', sha: head, repository: 'acme/widgets' },
      reviews: [],
      reviewComments: [],
      ...fields,
    });
  const two = pull(2, {
    locked: true,
    // A real pull request takes its labels after its creation (a PATCH, before the lock).
    labels: ['enhancement'],
    reactions: { rocket: 1 },
    comments: [{ id: 21, author: 'dave', body: 'Nice.', createdAt: t(2), updatedAt: t(2) }],
    reviews: [
      { id: 501, author: 'bob', state: 'COMMENTED', body: 'Looks mostly fine.', submittedAt: t(3), commitId: head },
      { id: 503, author: 'erin', state: 'CHANGES_REQUESTED', body: 'Please fix.', submittedAt: t(4), commitId: head },
      { id: 504, author: 'dave', state: 'APPROVED', body: '', submittedAt: t(5), commitId: head },
    ],
    reviewComments: [
      // On lines 1 to 3: a range.
      reviewComment(5001, { reviewId: 501, commitId: head, body: 'Rename line 3.', reactions: { '+1': 1 }, startLine: 1, originalStartLine: 1, startSide: 'RIGHT' }),
      reviewComment(5002, { reviewId: 502, inReplyTo: 5001, commitId: head, author: 'carol', body: 'Agreed.', createdAt: t(4) }),
      reviewComment(5003, { reviewId: 503, commitId: head, author: 'erin', line: 99, originalLine: 99, body: 'Line 99 is wrong.', createdAt: t(4) }),
      reviewComment(5004, { reviewId: 505, inReplyTo: 5003, commitId: head, author: 'carol', line: 99, originalLine: 99, body: 'There is no line 99.', createdAt: t(5) }),
      reviewComment(5005, { commitId: MISSING_COMMIT, line: null, originalLine: 2, body: 'On a commit force-pushed away.' }),
      reviewComment(5006, { reviewId: 501, commitId: head, line: null, originalLine: 5, originalCommitId: added, body: 'On the first commit.' }),
    ],
  });
  const three = pull(3, {
    head: { ref: 'topic', sha: head, repository: 'someone/widgets' },
    reviews: [{ id: 601, author: 'bob', state: 'COMMENTED', body: 'From the fork.', submittedAt: t(6), commitId: head }],
    reviewComments: [reviewComment(6001, { reviewId: 601, commitId: head }), reviewComment(6002, { reviewId: 602, inReplyTo: 6001, commitId: head, author: 'carol', body: 'ok' })],
  });
  const commitComment = (id: number, commitId: string, position: number | null) =>
    commitCommentSchema.parse({ id, author: 'erin', body: `commit comment ${id}`, createdAt: t(7), updatedAt: t(7), commitId, path: 'topic.txt', line: position, position });
  const documents = {
    'labels.json': [{ name: 'enhancement', color: 'a2eeef', description: null }],
    'issues/1.json': issue,
    'pulls/2.json': two,
    'pulls/3.json': three,
    'commit-comments/7001.json': commitComment(7001, added, 2),
    'commit-comments/7002.json': commitComment(7002, added, 50),
    'commit-comments/7003.json': commitComment(7003, MISSING_COMMIT, 1),
  };
  return { documents, added, head };
}

async function setup() {
  const standIn = await new GitHubStandIn().start();
  const model = await new RestoreTargetModel(standIn, 'rebuilt', 'widgets').start();
  cleanups.push(() => void standIn.close(), () => void model.close());
  let shas = { added: '', head: '' };
  const backup = await backupWithMetadata(cleanups, {
    settings: { apiUrl: standIn.url, token: TOKEN },
    live: (upstream) => {
      const made = records(upstream);
      shas = made;
      return made;
    },
  });
  const env = { GITHUB_API_URL: standIn.url, GITHUB_TOKEN: TOKEN };
  const repo = backup.b.settings.repositories[0] as string;
  // The git data first, as the runbook says: the target's repository is what restore --push pushed into.
  const base = makeTempDir('gpb-review-target-');
  cleanups.push(() => rmSync(base, { recursive: true, force: true }));
  const remote = join(base, 'widgets.git');
  mkdirSync(remote);
  git(remote, 'init', '--bare', '--quiet');
  const pushed = await runCli(['restore', 'latest', '--root', backup.b.root, '--repo', repo, '--push', remote], env);
  expect(pushed.code, pushed.stderr).toBe(0);
  model.withGit(remote);
  const restore = (...extra: string[]) => ['restore', 'latest', '--metadata-to', 'rebuilt/widgets', '--root', backup.b.root, '--repo', repo, '--json', ...extra];
  return { standIn, model, env, restore, ...shas };
}

function resultOf(stdout: string): RestoreMetadataResult {
  const result = JSON.parse(stdout) as RunResult<RestoreMetadataResult>;
  const [outcome] = result.outcomes;
  if (!outcome?.ok) throw new Error(`restore failed: ${stdout}`);
  return outcome.value;
}

const writes = (standIn: GitHubStandIn, from = 0) => standIn.requests.slice(from).filter((r) => r.method !== 'GET');
const marker = (key: string) => restoreMarker('acme/widgets', key);

describe('restore --metadata-to after restore --push: reviews, commit comments, locks', () => {
  it('puts reviews on the lines of the diff and replies as replies, quotes what GitHub refuses, locks last; a second run sends no write', async () => {
    const { standIn, model, env, restore, added, head } = await setup();

    // A dry run says in which form each would be made, and sends no write.
    const dry = await runCli(restore('--dry-run'), env);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = resultOf(dry.stdout);
    expect(plan.planned).toEqual(
      expect.arrayContaining([
        'pull request #2 "Record 2"',
        'review 501 on pull #2 (as a review with 1 comment(s) on their lines)',
        'review 504 on pull #2 (as a review)',
        'review thread 5006 on pull #2, "topic.txt" (on its line)',
        'reply 5002 in review thread 5001 on pull #2',
        'review thread 5005 on pull #2, "topic.txt" (as a comment quoting the diff and every reply)',
        'review 601 on pull #3 (as a comment)',
        'lock issue #1',
        'lock pull #2',
        `commit comment 7001 on ${added.slice(0, 12)}`,
      ]),
    );
    expect(plan.notRestored).toEqual([{ kind: 'commitComment', what: 'commit comment 7003 on dddddddddddd', reason: 'commit dddddddddddd is not in rebuilt/widgets (restore --push the git data first, then run this again)' }]);
    expect(plan.byKind).toMatchObject({ review: { created: 4 }, lock: { created: 2 }, commitComment: { created: 2, skipped: 1 } });
    expect(writes(standIn)).toEqual([]);

    const first = await runCli(restore(), env);
    expect(first.code, first.stderr).toBe(0);
    const value = resultOf(first.stdout);
    expect(value.created).toMatchObject({ issues: 1, pulls: 1, pullsAsIssues: 1, comments: 2, locked: 2, reviews: 3, reviewComments: 3, reviewsAsComments: 1, threadsAsComments: 3, commitComments: 2 });
    expect(value.fellBack).toEqual([
      // Threads in the order they were started.
      { what: 'review thread 5005 on pull #2', reason: 'commit dddddddddddd is not in rebuilt/widgets' },
      { what: 'review thread 5003 on pull #2', reason: 'GitHub refused the line: Validation Failed: could not be resolved' },
      { what: 'commit comment 7002', reason: expect.stringMatching(/^GitHub refused its line: Validation Failed/) },
    ]);
    expect(value.notRestored).toEqual([expect.objectContaining({ kind: 'commitComment', what: 'commit comment 7003 on dddddddddddd' })]);

    // Pull request #2 is a pull request; its reviews are reviews (a verdict is the header's: GitHub refuses an
    // approval of one's own pull request), review 501 holding its thread on line 3 of the commit it reviewed.
    const pull = model.issue(2)!;
    expect(pull.pull).toEqual({ head: 'topic', base: 'main', draft: false });
    expect(pull.labels).toEqual(['enhancement']);
    const reviewsSent = standIn.requests.filter((r) => r.method === 'POST' && r.path === '/repos/rebuilt/widgets/pulls/2/reviews').map((r) => r.body as { event: string; commit_id: string; comments: unknown[] });
    expect(reviewsSent.map((r) => r.event)).toEqual(['COMMENT', 'COMMENT', 'COMMENT', 'COMMENT']);
    expect(reviewsSent.every((r) => r.commit_id === head)).toBe(true);
    const byMarker = (key: string) => pull.reviews.filter((r) => r.body.includes(marker(key)));
    expect(byMarker('review:501')).toHaveLength(1);
    expect(byMarker('review:504')[0]!.body).toContain('on #2: approved.');
    expect(byMarker('review:503')[0]!.body).toContain('on #2: changes requested.');
    const placed = (id: number) => pull.reviewComments.filter((c) => c.body.includes(marker(`thread:${id}`)));
    expect(placed(5001)).toEqual([expect.objectContaining({ reviewId: byMarker('review:501')[0]!.id, commitId: head, path: 'topic.txt', startLine: 1, line: 3, side: 'RIGHT', inReplyTo: null })]);
    expect(placed(5001)[0]!.body).toContain(' · 👍 1.');
    // The thread on the older commit is on its line of that commit, alone (a review has one commit).
    expect(placed(5006)).toEqual([expect.objectContaining({ commitId: added, line: 5, inReplyTo: null })]);
    // The reply is a reply to the recreated first comment.
    const reply = pull.reviewComments.filter((c) => c.body.includes(marker('reply:5002')));
    expect(reply).toEqual([expect.objectContaining({ inReplyTo: placed(5001)[0]!.id })]);
    expect(reply[0]!.body.endsWith('\n\nAgreed.')).toBe(true);
    // GitHub refused line 99 (outside the diff): the review went without it, and the thread, reply included, is a
    // comment quoting the path and the diff hunk. So is the one on a commit the target does not have.
    expect(placed(5003)).toEqual([]);
    const quoted = pull.comments.find((c) => c.body.includes(marker('thread:5003')))!.body;
    expect(quoted).toContain('`topic.txt` line 99');
    expect(quoted).toContain(`\`\`\`diff\n${HUNK}\n\`\`\``);
    expect(quoted.indexOf('Line 99 is wrong.')).toBeLessThan(quoted.indexOf('There is no line 99.'));
    expect(pull.comments.some((c) => c.body.includes(marker('thread:5005')) && c.body.includes('On a commit force-pushed away.'))).toBe(true);

    // Pull request #3 came from a fork: an issue, its review and thread quoted, the reply inside the thread.
    const fork = model.issue(3)!;
    expect(fork.pull).toBeNull();
    expect(fork.comments.map((c) => c.body.split('\n')[0])).toEqual([expect.stringContaining('Originally a review by [bob]'), expect.stringContaining('Originally a review thread on #3')]);
    expect(fork.comments[1]!.body).toContain('ok');

    // Reactions are counts in the header line; locks come after every other write on their conversation.
    const issue = model.issue(1)!;
    expect(issue.body.split('\n')[0]).toBe(`> Originally #1 by [alice](${standIn.url}/alice) on 2026-04-01 · 👍 3 · 🎉 1.`);
    expect(issue.comments[0]!.body.split('\n')[0]).toContain('on #1 · ❤️ 2.');
    expect(pull.body.split('\n')[0]).toContain(' · 🚀 1.');
    expect([issue.locked, pull.locked, fork.locked]).toEqual([true, true, false]);
    // The captured reason is sent again; a lock captured without one is locked without one.
    expect([issue.lockReason, pull.lockReason]).toEqual(['too heated', null]);
    for (const number of [1, 2]) {
      const calls = standIn.calls;
      const lock = calls.indexOf(`PUT /repos/rebuilt/widgets/issues/${number}/lock`);
      const onIt = calls.map((c, i) => (c.startsWith('POST ') && (c.includes(`/issues/${number}/`) || c.includes(`/pulls/${number}/`)) ? i : -1)).filter((i) => i >= 0);
      expect(onIt.length).toBeGreaterThan(0);
      expect(lock).toBeGreaterThan(Math.max(...onIt));
    }

    // Commit comments: on their line, or (the line refused) on the commit with the path and line in the header.
    expect(model.commitComments.map((c) => ({ commit: c.commitId, path: c.path, position: c.position }))).toEqual([
      { commit: added, path: 'topic.txt', position: 2 },
      { commit: added, path: null, position: null },
    ]);
    expect(model.commitComments[1]!.body).toContain(`on commit ${added.slice(0, 12)}, \`topic.txt\` line 50.`);

    expect(mentionsIn(standIn, AUTHORS)).toEqual([]);
    expect(first.stdout + first.stderr).not.toContain(TOKEN);

    // Again: nothing is sent but reads, and every step is counted as already present.
    const sent = standIn.requests.length;
    const again = await runCli(restore(), env);
    expect(again.code, again.stderr).toBe(0);
    expect(writes(standIn, sent)).toEqual([]);
    const second = resultOf(again.stdout);
    expect(Object.values(second.created).every((n) => n === 0)).toBe(true);
    expect(second.byKind).toMatchObject({ review: { created: 0, alreadyPresent: 4 }, thread: { created: 0, alreadyPresent: 5 }, reply: { created: 0, alreadyPresent: 3 }, lock: { alreadyPresent: 2 }, commitComment: { created: 0, alreadyPresent: 2, skipped: 1 } });
  });

  it('killed just after GitHub created a review with its comment, a thread on its line, then a reply: each found again by its marker, none twice', async () => {
    const { standIn, model, env, restore } = await setup();
    // Each killed run dies after GitHub applied the write and before the answer reached it.
    for (const path of ['/repos/rebuilt/widgets/pulls/2/reviews', '/repos/rebuilt/widgets/pulls/2/comments', '/repos/rebuilt/widgets/pulls/2/comments']) {
      const { child, done } = startCli(restore(), env);
      model.onWrite = async (request) => {
        if (request.method !== 'POST' || request.path !== path) return;
        model.onWrite = undefined;
        child.kill('SIGKILL');
        await done;
      };
      expect((await done).signal).toBe('SIGKILL');
    }
    const pull = model.issue(2)!;
    // The review, the thread on the older commit, the reply: each made by a run that died.
    expect(pull.reviewComments.map((c) => c.body.match(/restored=acme%2Fwidgets%23(\w+)%3A(\d+)/)!.slice(1).join(':'))).toEqual(['thread:5001', 'thread:5006', 'reply:5002']);

    const run = await runCli(restore(), env);
    expect(run.code, run.stderr).toBe(0);
    expect(pull.reviews.filter((r) => r.body.includes(marker('review:501')))).toHaveLength(1);
    const once = (key: string) => pull.reviewComments.filter((c) => c.body.includes(marker(key)));
    expect(once('thread:5001')).toHaveLength(1);
    expect(once('thread:5006')).toHaveLength(1);
    expect(once('reply:5002')).toEqual([expect.objectContaining({ inReplyTo: once('thread:5001')[0]!.id })]);
    // Nothing found was sent again.
    const sentFor = (key: string) => standIn.requests.filter((r) => r.method === 'POST' && JSON.stringify(r.body).includes(encodeURIComponent(`acme/widgets#${key}`)));
    expect(sentFor('review:501')).toHaveLength(1);
    expect(sentFor('thread:5006')).toHaveLength(1);
    expect(sentFor('reply:5002')).toHaveLength(1);
    const again = standIn.requests.length;
    expect((await runCli(restore(), env)).code).toBe(0);
    expect(writes(standIn, again)).toEqual([]);
  });

  it('a commit comment GitHub refuses is reported and the run goes on; a lock that is already there is taken as done; the next run creates the comment', async () => {
    const { standIn, model, env, restore, added } = await setup();
    const refused = { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'CommitComment', code: 'custom', message: 'body is too long' }], status: '422' } };
    model.onWrite = (request) => {
      // Just before the lock of #2: as if a killed run had locked it without journaling it, GitHub then refusing it.
      if (request.method === 'PATCH' && request.path === '/repos/rebuilt/widgets/issues/2') {
        model.issue(2)!.locked = true;
        model.refusals.push(refused);
      }
      // The first commit comment is in: GitHub refuses both tries of the second.
      if (request.method === 'POST' && request.path === `/repos/rebuilt/widgets/commits/${added}/comments`) {
        model.onWrite = undefined;
        model.refusals.push(refused, refused);
      }
    };
    const first = await runCli(restore(), env);
    expect(first.code, first.stderr).toBe(0);
    const value = resultOf(first.stdout);
    expect(value.notRestored).toEqual([
      { kind: 'commitComment', what: `commit comment 7002 on ${added.slice(0, 12)}`, reason: 'GitHub refused it: Validation Failed: body is too long' },
      expect.objectContaining({ what: 'commit comment 7003 on dddddddddddd' }),
    ]);
    expect(value.created).toMatchObject({ locked: 1, commitComments: 1 });
    expect(standIn.calls.filter((c) => c === 'GET /repos/rebuilt/widgets/issues/2')).toHaveLength(1);
    expect(model.commitComments).toHaveLength(1);

    const sent = standIn.requests.length;
    const again = await runCli(restore(), env);
    expect(again.code, again.stderr).toBe(0);
    expect(writes(standIn, sent).map((r) => `${r.method} ${r.path}`)).toEqual([`POST /repos/rebuilt/widgets/commits/${added}/comments`, `POST /repos/rebuilt/widgets/commits/${added}/comments`]);
    expect(model.commitComments.map((c) => c.body.includes(marker('commit-comment:7002')))).toEqual([false, true]);
  });

  it('the mention check finds an @login where GitHub would notify it, and not in a link text or a code span', () => {
    const requests = [{ method: 'POST', path: '/x', query: {}, headers: {}, body: { body: 'hi @alice, [bob](https://github.com/bob), `@carol`, mail dave@example.com', comments: [{ body: 'and @erin' }] } }];
    expect(mentionsIn({ requests }, AUTHORS)).toEqual(['POST /x: @alice', 'POST /x: @erin']);
  });
});
