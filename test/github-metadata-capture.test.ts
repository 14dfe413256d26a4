// The GitHub metadata capture (docs/METADATA_FORMAT.md) against the API stand-in: every kind into one commit of the
// metadata repository, an unchanged day costing only 304s and no commit, point in time across captures, kinds failing
// on their own, rate limits waited out or stopped at cleanly and resumed, and assets downloaded without the token.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createGitCommandManager } from '../src/git/git.ts';
import { captureMetadata, type CaptureOptions } from '../src/github-metadata/capture.ts';
import { metadataSelection } from '../src/github-metadata/switches.ts';
import { Redactor } from '../src/redact.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { setEnv } from './helpers/env.ts';
import { recordGitCalls } from './helpers/git-calls.ts';
import { git, makeTempDir } from './helpers/git-fixtures.ts';
import { GitHubRecords, type RepoRecords } from './helpers/github-records.ts';
import { GitHubStandIn, type RecordedRequest } from './helpers/github-standin.ts';

const TOKEN = 'ghp_METAcaptureTOKEN0123456789abcdefABCD';
const cleanups = cleanupAfterEach();

let standIn: GitHubStandIn;
let records: GitHubRecords;
let repo: RepoRecords;
let dir: string;
/** The capture's clock: each capture is a day after the last. */
let day = Date.parse('2026-12-01T02:00:00Z');

beforeEach(async () => {
  standIn = await new GitHubStandIn().start();
  records = await new GitHubRecords(standIn).start();
  cleanups.push(() => void standIn.close(), () => void records.close());
  repo = records.repo('acme', 'widgets');
  dir = makeTempDir('gpb-meta-');
});

function options(overrides: Partial<CaptureOptions> = {}): CaptureOptions {
  const redactor = new Redactor();
  redactor.add(TOKEN);
  return {
    apiUrl: standIn.url,
    token: TOKEN,
    owner: 'acme',
    name: 'widgets',
    repoDir: join(dir, 'metadata/acme/widgets.git'),
    assetsDir: join(dir, 'metadata/acme/widgets.assets'),
    stateFile: join(dir, 'state/metadata/acme/widgets.json'),
    selection: metadataSelection(undefined),
    git: createGitCommandManager({ token: TOKEN, redactor }),
    redactor,
    clock: () => new Date(day),
    ...overrides,
  };
}

/** Run one capture and return it with the API requests it made. */
async function capture(overrides: Partial<CaptureOptions> = {}) {
  day += 86_400_000;
  const before = standIn.requests.length;
  const downloadsBefore = records.downloads.length;
  const answersBefore = records.answers.length;
  const result = await captureMetadata(options(overrides));
  return { result, requests: standIn.requests.slice(before), downloads: records.downloads.slice(downloadsBefore), statuses: records.answers.slice(answersBefore).map((a) => a.status) };
}

const metaGit = (...args: string[]) => git(join(dir, 'metadata/acme/widgets.git'), ...args);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a document read back, asserted on field by field
const doc = (path: string, rev = 'main'): any => JSON.parse(metaGit('show', `${rev}:${path}`));
const callOf = (r: RecordedRequest) => decodeURIComponent(`${r.path}?${new URLSearchParams(r.query).toString()}`);
const newest = (items: Array<{ updated_at: string }>) => items.map((i) => i.updated_at).sort().at(-1);

/** A repository with something of every kind. */
function populate(): void {
  repo.addLabel('bug', 'd73a4a', 'Something is wrong');
  repo.addLabel('enhancement', 'a2eeef');
  repo.addMilestone('v2', { description: 'the next one' });
  repo.addIssue({ title: 'It breaks', body: 'Steps to reproduce: …', labels: ['bug'], assignees: ['octocat'], milestone: 1, reactions: { '+1': 3, heart: 1 } });
  repo.comment(1, 'Confirmed on main.');
  repo.comment(1, 'Fixed, I think.', null);
  repo.addPull({ title: 'Fix the break', body: 'Fixes #1', head: 'fix-break', labels: ['bug'] });
  repo.comment(2, 'Looks good so far');
  const review = repo.review(2, { state: 'CHANGES_REQUESTED', body: 'One thing' });
  repo.reviewComment(2, { body: 'Rename this', path: 'src/widget.ts', reviewId: review.id, line: 3, startLine: 1 });
  repo.addIssue({ title: 'Docs are thin', state: 'closed', state_reason: 'completed', closed_at: '2026-11-02T00:00:00Z', locked: true, active_lock_reason: 'resolved' });
  repo.addCommitComment({ body: 'Why this constant?', commit: 'c'.repeat(40), path: 'src/widget.ts', line: 3 });
  repo.addRelease('v1.0', [
    { name: 'widgets.tar.gz', bytes: Buffer.from('the release tarball\n'.repeat(50)) },
    { name: 'checksums.txt', bytes: Buffer.from('abc  widgets.tar.gz\n'), contentType: 'text/plain' },
  ]);
  repo.protection.main = { required_pull_request_reviews: { required_approving_review_count: 1 }, enforce_admins: { enabled: true } };
}

describe('capture', () => {
  it('keeps every kind as one JSON document per record, in one commit, assets under their sha256', async () => {
    populate();
    const { result, requests, downloads } = await capture();

    expect(result.committed).toBe(true);
    expect(metaGit('rev-list', '--count', 'main').trim()).toBe('1');
    expect(Object.fromEntries(Object.entries(result.kinds).map(([k, v]) => [k, [v.state, v.count]]))).toEqual({
      settings: ['complete', 1],
      labels: ['complete', 2],
      milestones: ['complete', 1],
      issues: ['complete', 2],
      pulls: ['complete', 1],
      commitComments: ['complete', 1],
      releases: ['complete', 1],
    });
    expect(doc('format.json')).toEqual({ format: 'github-private-backup-metadata', version: 1 });
    expect(doc('capture.json').kinds.issues).toEqual({ state: 'complete', count: 2 });

    const issue = doc('issues/1.json');
    expect(issue).toMatchObject({ number: 1, title: 'It breaks', state: 'open', author: 'octocat', labels: ['bug'], assignees: ['octocat'], milestone: 1, reactions: { '+1': 3, heart: 1 } });
    expect(issue.comments.map((c: { body: string; author: string | null }) => [c.author, c.body])).toEqual([['hubot', 'Confirmed on main.'], [null, 'Fixed, I think.']]);
    expect(doc('issues/3.json')).toMatchObject({ state: 'closed', stateReason: 'completed', locked: true, lockReason: 'resolved' });
    expect(doc('issues/1.json')).not.toHaveProperty('lockReason');
    const pull = doc('pulls/2.json');
    expect(pull).toMatchObject({ number: 2, title: 'Fix the break', merged: false, draft: false, head: { ref: 'fix-break', repository: 'acme/widgets' }, base: { ref: 'main' } });
    expect(pull.comments.map((c: { body: string }) => c.body)).toEqual(['Looks good so far']);
    expect(pull.reviews).toMatchObject([{ state: 'CHANGES_REQUESTED', body: 'One thing', author: 'reviewer' }]);
    expect(pull.reviewComments).toMatchObject([{ body: 'Rename this', path: 'src/widget.ts', diffHunk: '@@ -1,3 +1,4 @@\n line\n+added', reviewId: pull.reviews[0].id, line: 3, startLine: 1, startSide: 'RIGHT' }]);
    expect(metaGit('ls-tree', '--name-only', 'main', 'issues/').split('\n').filter(Boolean)).toEqual(['issues/1.json', 'issues/3.json']);
    expect(doc('labels.json')).toEqual([
      { name: 'bug', color: 'd73a4a', description: 'Something is wrong' },
      { name: 'enhancement', color: 'a2eeef', description: null },
    ]);
    expect(doc('repository.json')).toMatchObject({ fullName: 'acme/widgets', topics: ['widgets'], defaultBranch: 'main', visibility: 'private', branchProtection: { main: repo.protection.main } });
    // No API URL in any document: a day's diff shows what changed on GitHub and nothing else.
    expect(() => metaGit('grep', '-q', '-e', standIn.url, '-e', 'github.example', 'main')).toThrow();

    const release = repo.releases[0]!;
    const kept = doc(`releases/${release.id}.json`);
    for (const [i, asset] of release.assets.entries()) {
      const sha256 = createHash('sha256').update(asset.bytes).digest('hex');
      expect(kept.assets[i]).toMatchObject({ id: asset.id, name: asset.name, size: asset.bytes.length, sha256 });
      const file = join(dir, 'metadata/acme/widgets.assets', sha256);
      expect(readFileSync(file)).toEqual(asset.bytes);
      expect(statSync(file).mode & 0o777).toBe(0o444);
    }
    // The API got the token; the download host it redirected to got the bytes asked for, and no credential.
    const assetCalls = requests.filter((r) => r.path.includes('/releases/assets/'));
    expect(assetCalls).toHaveLength(2);
    expect(assetCalls.every((r) => r.headers.authorization === `token ${TOKEN}` && r.headers.accept === 'application/octet-stream')).toBe(true);
    expect(downloads.map((d) => d.path).sort()).toEqual(release.assets.map((a) => `/download/${a.id}/${encodeURIComponent(a.name)}`).sort());
    for (const download of downloads) {
      expect(download.headers.authorization).toBeUndefined();
      expect(JSON.stringify(download.headers)).not.toContain(TOKEN);
    }
  });

  it('a page that is not JSON (a proxy\'s error page answered 200) fails its kind with a clear reason; the others are kept', async () => {
    populate();
    standIn.serveRaw((req, res) => {
      if (!req.url?.startsWith('/repos/acme/widgets/labels')) return false;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Bad gateway, try later</body></html>');
      return true;
    });
    const { result } = await capture();
    expect(result.kinds.labels).toMatchObject({ state: 'failed', reason: 'labels: GitHub answered /repos/acme/widgets/labels with something that is not JSON' });
    expect(result.kinds.issues).toMatchObject({ state: 'complete', count: repo.issues.filter((i) => !i.pull).length });
  });

  it('a capture with nothing new spends three git processes (which repository, its tree, the documents it keeps) and leaves the marks file alone', async () => {
    populate();
    await capture();
    await capture();
    const stateFile = join(dir, 'state/metadata/acme/widgets.json');
    const marks = statSync(stateFile);
    const calls = recordGitCalls(dir);
    cleanups.push(setEnv({ PATH: calls.path }));
    const { result, statuses } = await capture();
    expect(result.committed).toBe(false);
    expect(statuses.every((s) => s === 304)).toBe(true);
    expect(calls.take()).toEqual(['rev-parse', 'ls-tree', 'cat-file']);
    // Not rewritten: the same file (a write renames a new one into place).
    expect(statSync(stateFile).ino).toBe(marks.ino);
    // Something new is written as before.
    repo.addIssue({ title: 'A new one' });
    expect((await capture()).result.committed).toBe(true);
    expect(statSync(stateFile).ino).not.toBe(marks.ino);
  });

  it('a second capture with nothing new sends only conditional requests, gets 304s and makes no commit', async () => {
    populate();
    await capture();
    const commit = metaGit('rev-parse', 'main').trim();
    const { result, requests, downloads, statuses } = await capture();

    expect(result.committed).toBe(false);
    expect(statuses).toEqual(Array(requests.length).fill(304));
    expect(result.changedDocuments).toBe(0);
    expect(metaGit('rev-parse', 'main').trim()).toBe(commit);
    expect(downloads).toEqual([]);
    // One conditional request per list: every one carries the ETag of its last answer.
    expect(requests.map(callOf).sort()).toEqual(
      [
        '/repos/acme/widgets?',
        '/repos/acme/widgets/branches?page=1&per_page=100&protected=true',
        '/repos/acme/widgets/branches/main/protection?',
        '/repos/acme/widgets/labels?page=1&per_page=100',
        '/repos/acme/widgets/milestones?page=1&per_page=100&state=all',
        `/repos/acme/widgets/issues?direction=asc&page=1&per_page=100&since=${newest(repo.issues)}&sort=updated&state=all`,
        '/repos/acme/widgets/pulls?direction=desc&page=1&per_page=100&sort=updated&state=all',
        `/repos/acme/widgets/issues/comments?direction=asc&page=1&per_page=100&since=${newest(repo.issues.flatMap((i) => i.comments))}&sort=updated`,
        `/repos/acme/widgets/pulls/comments?direction=asc&page=1&per_page=100&since=${newest(repo.issues.flatMap((i) => i.pull?.reviewComments ?? []))}&sort=updated`,
        '/repos/acme/widgets/comments?page=1&per_page=100',
        '/repos/acme/widgets/releases?page=1&per_page=100',
      ].sort(),
    );
    expect(requests.every((r) => typeof r.headers['if-none-match'] === 'string')).toBe(true);
  });

  it('branch protection refused to a user who is no admin is not asked each day: again once the record says admin, or a week on', async () => {
    populate();
    repo.permissions.admin = false;
    const settingsCalls = (requests: RecordedRequest[]) => requests.filter((r) => r.path === '/repos/acme/widgets' || r.path.startsWith('/repos/acme/widgets/branches')).map(callOf);
    const refused = await capture();
    expect(settingsCalls(refused.requests)).toEqual(['/repos/acme/widgets?', '/repos/acme/widgets/branches?page=1&per_page=100&protected=true', '/repos/acme/widgets/branches/main/protection?']);
    expect(refused.result.kinds.settings).toMatchObject({ state: 'complete', skipped: [{ what: 'branch protection', reason: expect.stringMatching(/HTTP 404.*not an admin of the repository/) }] });
    expect(doc('repository.json').branchProtection).toBeUndefined();

    // The next day the record answers 304 and says the same: settings cost that one request, and nothing changed.
    const quiet = await capture();
    expect(settingsCalls(quiet.requests)).toEqual(['/repos/acme/widgets?']);
    expect(quiet.statuses).toEqual(Array(quiet.requests.length).fill(304));
    expect(quiet.result.committed).toBe(false);
    expect(quiet.result.kinds.settings).toEqual(refused.result.kinds.settings);

    // Made an admin: the record (and so its ETag) changes, and protection is read that same day.
    repo.permissions.admin = true;
    const admitted = await capture();
    expect(settingsCalls(admitted.requests)).toContain('/repos/acme/widgets/branches/main/protection?');
    expect(admitted.result.kinds.settings!.skipped).toBeUndefined();
    expect(doc('repository.json').branchProtection).toEqual({ main: repo.protection.main });

    // No admin again: refused once; the kept rules stay; a week later it is asked again, record unchanged or not.
    repo.permissions.admin = false;
    expect(settingsCalls((await capture()).requests)).toContain('/repos/acme/widgets/branches/main/protection?');
    expect(settingsCalls((await capture()).requests)).toEqual(['/repos/acme/widgets?']);
    expect(doc('repository.json').branchProtection).toEqual({ main: repo.protection.main });
    day += 5 * 86_400_000;
    expect(settingsCalls((await capture()).requests)).toContain('/repos/acme/widgets/branches/main/protection?');
  });

  it('marks written after another metadata commit are not trusted: a repository laid back from an older snapshot is captured in full', async () => {
    populate();
    await capture();
    const older = metaGit('rev-parse', 'main').trim();
    repo.editIssue(1, { body: 'Edited after the first capture' });
    await capture();
    expect(doc('issues/1.json').body).toBe('Edited after the first capture');
    // The live metadata repository goes back to the older commit (an older snapshot laid back), the marks stay.
    metaGit('update-ref', 'refs/heads/main', older);
    const warnings: string[] = [];
    const full = await capture({ onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`written after metadata commit [0-9a-f]{40}, the metadata repository is at ${older}: capturing everything again`))]);
    // Nothing was asked with an ETag of the newer capture, and the edit the older tree lacked is back.
    expect(full.requests.filter((r) => r.headers['if-none-match'] !== undefined)).toEqual([]);
    expect(doc('issues/1.json').body).toBe('Edited after the first capture');
    // The marks now match the tree again: the day after is all 304s.
    const quiet = await capture();
    expect(quiet.statuses).toEqual(Array(quiet.requests.length).fill(304));
  });

  it('asks only for what changed since the mark, and the older commit keeps the record as it was', async () => {
    populate();
    await capture();
    const first = metaGit('rev-parse', 'main').trim();
    repo.editIssue(1, { body: 'Steps to reproduce, corrected' });
    repo.editComment(repo.issue(1).comments[0]!.id, 'Confirmed on main and on v1.0.');
    repo.comment(3, 'Reopening? No.');

    const { result, requests } = await capture();
    expect(result.committed).toBe(true);
    const issueCalls = requests.filter((r) => r.path === '/repos/acme/widgets/issues');
    expect(issueCalls[0]!.query.since).toBeDefined();
    expect(issueCalls[0]!.headers['if-none-match']).toBeDefined();
    // Only what changed is in the new commit.
    expect(metaGit('diff', '--name-only', first, 'main').split('\n').filter(Boolean)).toEqual(['capture.json', 'issues/1.json', 'issues/3.json']);
    expect(doc('issues/1.json').body).toBe('Steps to reproduce, corrected');
    expect(doc('issues/1.json').comments.map((c: { body: string }) => c.body)).toEqual(['Confirmed on main and on v1.0.', 'Fixed, I think.']);
    expect(doc('issues/3.json').comments.map((c: { body: string }) => c.body)).toEqual(['Reopening? No.']);
    // Point in time: the first capture's commit still shows the issue as it was then.
    expect(doc('issues/1.json', first).body).toBe('Steps to reproduce: …');
    expect(doc('issues/1.json', first).comments[0].body).toBe('Confirmed on main.');
    // And the day after, nothing new again: no commit, only 304s.
    const third = await capture();
    expect(third.result.committed).toBe(false);
    expect(third.requests.every((r) => typeof r.headers['if-none-match'] === 'string')).toBe(true);
    expect(third.statuses).toEqual(Array(third.requests.length).fill(304));
  });

  it('a pull request that changed is read again with its reviews; one that did not costs nothing', async () => {
    populate();
    const quiet = repo.addPull({ title: 'Untouched', head: 'quiet' });
    await capture();
    repo.reviewComment(2, { body: 'And this one', path: 'src/other.ts' });
    repo.review(2, { state: 'APPROVED' });
    const { requests, result } = await capture();
    const paths = requests.map((r) => r.path);
    expect(paths).toContain('/repos/acme/widgets/pulls/2/reviews');
    expect(paths).not.toContain(`/repos/acme/widgets/pulls/${quiet.number}/reviews`);
    // /pulls brought the changed pull request itself: no request for it alone.
    expect(paths).not.toContain('/repos/acme/widgets/pulls/2');
    expect(result.kinds.pulls).toMatchObject({ state: 'complete', count: 2 });
    const pull = doc('pulls/2.json');
    expect(pull.reviews.map((r: { state: string }) => r.state)).toEqual(['CHANGES_REQUESTED', 'APPROVED']);
    expect(pull.reviewComments.map((c: { body: string }) => c.body)).toEqual(['Rename this', 'And this one']);
    expect(metaGit('diff', '--name-only', 'main~1', 'main').split('\n').filter(Boolean)).toEqual(['capture.json', 'pulls/2.json']);
  });

  it('a kind that fails says why and stops no other kind: 410 issues, 451 releases, 403 reviews', async () => {
    populate();
    repo.fail('issues', 410).fail('issueComments', 410).fail('releases', 451).fail('reviews', 403);
    const { result } = await capture();
    expect(result.kinds.issues).toMatchObject({ state: 'disabled', count: 0, reason: expect.stringMatching(/HTTP 410.*Issues are disabled for this repo/) });
    expect(result.kinds.releases).toMatchObject({ state: 'failed', reason: expect.stringMatching(/HTTP 451, unavailable for legal reasons/) });
    expect(result.kinds.pulls).toMatchObject({ state: 'partial', count: 1, reason: expect.stringMatching(/reviews of pull request #2: HTTP 403/) });
    expect(result.kinds.pulls!.skipped).toEqual([{ what: 'reviews of pull request #2', reason: expect.stringMatching(/HTTP 403/) }]);
    for (const kind of ['settings', 'labels', 'milestones', 'commitComments'] as const) expect(result.kinds[kind]!.state).toBe('complete');
    expect(doc('capture.json').kinds.releases.reason).toMatch(/HTTP 451/);
    // The pull request is kept from /pulls, without the reviews the token cannot read.
    expect(doc('pulls/2.json')).toMatchObject({ title: 'Fix the break', reviews: [] });

    // Healed: the next capture reads what failed, and keeps what it had.
    repo.heal();
    const healed = await capture();
    expect(Object.values(healed.result.kinds).map((k) => k.state)).toEqual(Array(7).fill('complete'));
    expect(healed.result.kinds.issues!.count).toBe(2);
    expect(doc('pulls/2.json').reviews).toHaveLength(1);
  });

  it('a repository blocked for legal reasons (451 everywhere) fails each kind alike, with the reason', async () => {
    populate();
    repo.fail('repository', 451);
    const { result } = await capture();
    for (const kind of Object.values(result.kinds)) expect(kind).toMatchObject({ state: 'failed', reason: expect.stringMatching(/HTTP 451/) });
    expect(doc('capture.json').kinds.settings.state).toBe('failed');
  });

  it('waits out a secondary limit (Retry-After) and a primary one (x-ratelimit-reset) within the bounded wait', async () => {
    cleanups.push(setEnv({ BACKUP_RETRY_BASE_MS: '5' }));
    populate();
    records.secondaryRateLimit(2, 2);
    const waits: string[] = [];
    const first = await capture({ onWait: (seconds, why) => waits.push(`${seconds} ${why}`) });
    expect(Object.values(first.result.kinds).every((k) => k.state === 'complete')).toBe(true);
    expect(waits).toEqual([expect.stringMatching(/^2 secondary rate limit on GET/), expect.stringMatching(/^2 secondary rate limit on GET/)]);
    // The same request, asked three times: twice refused, then answered.
    expect(first.requests.slice(0, 3).map(callOf)).toEqual(Array(3).fill('/repos/acme/widgets?'));

    repo.addIssue({ title: 'After the limit' });
    records.primaryRateLimit(1, 1);
    waits.length = 0;
    const second = await capture({ onWait: (seconds, why) => waits.push(`${seconds} ${why}`) });
    expect(waits).toEqual([expect.stringMatching(/rate limit on GET/)]);
    expect(second.result.kinds.issues).toMatchObject({ state: 'complete', count: 3 });
  });

  it('a rate limit past the bounded wait stops the repository cleanly (partial) and the next run resumes from its marks', async () => {
    for (let i = 1; i <= 250; i++) repo.addIssue({ title: `issue ${i}`, body: `body ${i}` });
    // settings (2 requests), labels, milestones, then issue pages 1 and 2 are answered; page 3 hits a limit that
    // resets in an hour, far past the wait budget.
    records.primaryRateLimit(1000, 3600, 6);
    const stopped = await capture({ maxWaitSeconds: 5 });
    expect(stopped.result.kinds.issues).toMatchObject({ state: 'partial', count: 200, reason: expect.stringMatching(/rate limit still exceeded after the bounded wait until/) });
    for (const kind of ['pulls', 'commitComments', 'releases'] as const) {
      expect(stopped.result.kinds[kind]).toMatchObject({ state: 'partial', reason: expect.stringMatching(/^not read this run: issues: rate limit/) });
    }
    expect(stopped.result.committed).toBe(true);
    expect(doc('capture.json').kinds.issues.state).toBe('partial');
    const limitedRequests = stopped.requests.length;
    expect(limitedRequests).toBeLessThan(12); // it stopped instead of asking every kind into the limit

    records.liftRateLimits();
    const resumed = await capture();
    const firstIssueCall = resumed.requests.find((r) => r.path === '/repos/acme/widgets/issues')!;
    // Resumed from the newest update it had read: the 200th issue's, not from the beginning.
    expect(firstIssueCall.query.since).toBe(repo.issue(200).updated_at);
    expect(resumed.result.kinds.issues).toMatchObject({ state: 'complete', count: 250 });
    expect(Object.values(resumed.result.kinds).every((k) => k.state === 'complete')).toBe(true);
  });

  it('a rate limit in the comment stream leaves issues and pull requests partial, each with the reason, and the next run completes both', async () => {
    populate();
    // settings (3 requests), labels, milestones, the issue stream (2 rounds) and /pulls are answered; then the limit.
    records.primaryRateLimit(1000, 3600, 8);
    const stopped = await capture({ maxWaitSeconds: 5 });
    expect(stopped.requests.at(-1)!.path).toBe('/repos/acme/widgets/issues/comments');
    expect(stopped.result.kinds.issues).toMatchObject({ state: 'partial', count: 2, reason: expect.stringMatching(/^conversation comments: rate limit/) });
    expect(stopped.result.kinds.pulls).toMatchObject({ state: 'partial', reason: expect.stringMatching(/rate limit/) });
    expect(stopped.result.kinds.releases).toMatchObject({ state: 'partial', reason: expect.stringMatching(/^not read this run/) });
    records.liftRateLimits();
    const resumed = await capture();
    expect(Object.values(resumed.result.kinds).map((k) => k.state)).toEqual(Array(7).fill('complete'));
    expect(doc('issues/1.json').comments).toHaveLength(2);
    expect(doc('pulls/2.json')).toMatchObject({ comments: [{ body: 'Looks good so far' }], reviews: [{ state: 'CHANGES_REQUESTED' }], reviewComments: [{ body: 'Rename this' }] });
  });

  it('an asset over assetMaxBytes, or with assets switched off, is named as skipped, never silently dropped', async () => {
    repo.addRelease('v2.0', [
      { name: 'small.txt', bytes: Buffer.from('small\n') },
      { name: 'huge.bin', bytes: Buffer.alloc(4096, 7) },
    ]);
    const { result, downloads } = await capture({ selection: { ...metadataSelection(undefined), assetMaxBytes: 100 } });
    expect(downloads.map((d) => d.path)).toEqual([expect.stringMatching(/small\.txt$/)]);
    expect(result.kinds.releases).toMatchObject({ state: 'complete', count: 1, skipped: [{ what: expect.stringMatching(/asset huge\.bin .* of release v2\.0/), reason: '4096 bytes, over metadata.assetMaxBytes (100)' }] });
    const release = doc(`releases/${repo.releases[0]!.id}.json`);
    expect(release.assets[1]).toMatchObject({ name: 'huge.bin', sha256: null, skipped: '4096 bytes, over metadata.assetMaxBytes (100)' });
    expect(release.assets[0].sha256).toBe(createHash('sha256').update('small\n').digest('hex'));

    const off = await captureMetadata(options({ selection: metadataSelection({ assets: false, issues: false, pulls: false, settings: false }), repoDir: join(dir, 'other.git'), stateFile: join(dir, 'other.json') }));
    expect(off.kinds.releases!.skipped!.map((s) => s.reason)).toEqual(Array(2).fill('asset downloads are switched off (metadata.assets: false)'));
    expect(off.kinds.issues).toMatchObject({ state: 'disabled', reason: 'switched off in the config (metadata.issues: false)' });
    expect(off.kinds.labels).toMatchObject({ state: 'disabled' });
  });

  it('hostile answers: a list that is not a list fails its kind with a reason; a record whose number is no number is named, never a path', async () => {
    populate();
    standIn.on('GET', '/repos/acme/widgets/labels', () => ({ status: 200, body: { message: 'not a list' } }));
    const escape = { ...repo.issue(3), number: '../../../escape' as unknown as number, title: 'sneaky' };
    repo.issues.push(escape);
    const { result } = await capture();
    expect(result.kinds.labels).toMatchObject({ state: 'failed', reason: 'labels: GitHub answered /repos/acme/widgets/labels with something that is not a list' });
    expect(result.kinds.issues).toMatchObject({ state: 'complete', count: 2, skipped: [{ what: '"issues/../../../escape.json"', reason: expect.stringMatching(/^not kept: GitHub's answer does not fit the format/) }] });
    expect(metaGit('ls-tree', '-r', '--name-only', 'main').split('\n')).not.toContain(expect.stringMatching(/escape/));
    expect(readdirSync(dir).sort()).toEqual(['metadata', 'state']);
    for (const kind of ['settings', 'milestones', 'pulls', 'commitComments', 'releases'] as const) expect(result.kinds[kind]!.state).toBe('complete');
  });

  it('a damaged metadata repository is refused, never mistaken for a repository that encloses it', async () => {
    git(dir, 'init', '--quiet');
    mkdirSync(join(dir, 'metadata/acme/widgets.git'), { recursive: true });
    populate();
    await expect(captureMetadata(options())).rejects.toThrow(/metadata\/acme\/widgets\.git is not a git repository: the metadata repository there is damaged/);
    expect(() => git(dir, 'rev-parse', '--verify', '--quiet', 'HEAD')).toThrow();
    expect(git(dir, 'count-objects').trim()).toBe('0 objects, 0 kilobytes');
  });

  it('…also when the repository that encloses it has a main branch of its own (its commit must not be taken for ours)', async () => {
    git(dir, 'init', '--quiet', '--initial-branch=main');
    git(dir, 'commit', '--quiet', '--allow-empty', '-m', 'not ours');
    const theirs = git(dir, 'rev-parse', 'main').trim();
    mkdirSync(join(dir, 'metadata/acme/widgets.git'), { recursive: true });
    populate();
    await expect(captureMetadata(options())).rejects.toThrow(/metadata\/acme\/widgets\.git is not a git repository: the metadata repository there is damaged/);
    expect(git(dir, 'rev-parse', 'main').trim()).toBe(theirs);
  });

  it('a download that does not match the declared size keeps nothing half-written and is tried again next run', async () => {
    const release = repo.addRelease('v3.0', [{ name: 'data.bin', bytes: Buffer.from('0123456789') }]);
    // GitHub declares one size; the bytes served are fewer (a truncated transfer).
    const asset = release.assets[0]!;
    const full = asset.bytes;
    asset.declaredSize = full.length;
    asset.bytes = full.subarray(0, 5);
    const { result } = await capture();
    expect(result.kinds.releases!.skipped).toEqual([{ what: expect.stringMatching(/data\.bin/), reason: expect.stringMatching(/download failed.*5 bytes where the API declares 10/) }]);
    expect(readdirSync(join(dir, 'metadata/acme/widgets.assets'))).toEqual([]);
    asset.bytes = full;
    const again = await capture();
    expect(again.result.kinds.releases!.skipped).toBeUndefined();
    expect(doc(`releases/${release.id}.json`).assets[0].sha256).toBe(createHash('sha256').update(full).digest('hex'));
  });
});
