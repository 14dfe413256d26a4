// The whole way round: sync captures a repository's records from the GitHub API stand-in (test/helpers/
// github-records.ts, git over HTTP beside it), the snapshot carries them, and restore --metadata-to recreates them in
// an empty repository on the same stand-in (test/helpers/github-restore-target.ts). What the target holds is compared
// with what the source held; a second restore sends no write.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { envForFile } from './helpers/env.ts';
import { createBackup, createUpstream, okValue } from './helpers/git-fixtures.ts';
import { serveThroughBackend } from './helpers/git-http.ts';
import { GitHubRecords } from './helpers/github-records.ts';
import { RestoreTargetModel } from './helpers/github-restore-target.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';

const TOKEN = 'ghp_ROUNDtripTOKEN0123456789abcdefABCDEF';
const cleanups = cleanupAfterEach();
// A "second" of waiting, or of the pacing GitHub asks between writes, is 10 ms here (src/github/client.ts).
envForFile({ BACKUP_RETRY_BASE_MS: '10' });

describe('capture, snapshot, restore --metadata-to', () => {
  it('recreates what was captured: issues with comments and state, the pull request with its review, the release with its asset', async () => {
    const upstream = createUpstream();
    const standIn = await new GitHubStandIn().start();
    const records = await new GitHubRecords(standIn).start();
    const target = await new RestoreTargetModel(standIn, 'rebuilt', 'widgets').start();
    cleanups.push(() => upstream.cleanup(), () => void standIn.close(), () => void records.close(), () => void target.close());
    standIn.serveRaw((req, res) => {
      if (!/\.git\//.test(req.url ?? '')) return false;
      void serveThroughBackend(join(upstream.tmp, 'upstream'), req, res);
      return true;
    });
    const source = records.repo('acme', 'widgets');
    source.addLabel('bug', 'd73a4a', 'Something is broken');
    source.addIssue({ title: 'It breaks', body: 'steps to reproduce', labels: ['bug'] });
    source.comment(1, 'seen here too', 'alice');
    source.addIssue({ title: 'Old idea', body: null });
    source.editIssue(2, { state: 'closed', state_reason: 'not_planned', closed_at: records.tick() });
    source.addPull({ title: 'Fix it', body: 'fixes #1', head: 'feature' });
    const review = source.review(3, { state: 'CHANGES_REQUESTED', body: 'almost' });
    source.reviewComment(3, { body: 'rename this', path: 'feature.txt', reviewId: review.id });
    const bytes = Buffer.from('release notes\n');
    source.addRelease('v1.0', [{ name: 'notes.txt', bytes }]);

    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`], apiUrl: standIn.url, token: TOKEN });
    const synced = okValue(await b.engine.sync());
    expect(synced.snapshot).not.toBeNull();

    const restored = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' }));
    expect(restored.created).toMatchObject({ labels: 1, issues: 2, pullsAsIssues: 1, comments: 1, reviewsAsComments: 1, threadsAsComments: 1, closed: 1, releases: 1, assets: 1 });
    expect(target.issues.map((i) => ({ number: i.number, title: i.title, state: i.state, reason: i.stateReason, labels: i.labels, comments: i.comments.length }))).toEqual([
      { number: 1, title: 'It breaks', state: 'open', reason: null, labels: ['bug'], comments: 1 },
      { number: 2, title: 'Old idea', state: 'closed', reason: 'not_planned', labels: [], comments: 0 },
      { number: 3, title: 'Fix it', state: 'open', reason: null, labels: [], comments: 2 },
    ]);
    expect(target.issue(1)!.body).toMatch(/^> Originally #1 by \[[\w-]+\]\(http:\/\/127\.0\.0\.1:\d+\/[\w-]+\) on \d{4}-\d{2}-\d{2}\.\n/);
    expect(target.issue(1)!.comments[0]!.body).toMatch(/> Originally a comment by \[alice\]\(\S+\/alice\) on .* on #1\.[\s\S]*seen here too$/);
    expect(target.issue(3)!.comments.map((c) => c.body.split('\n')[0])).toEqual([
      expect.stringMatching(/^> Originally a review by \[reviewer\]\(\S+\) on .* on #3: changes requested\.$/),
      expect.stringMatching(/^> Originally a review thread on #3, `feature\.txt` line 2, started by \[reviewer\]\(/),
    ]);
    expect(target.releases.map((r) => ({ tag: r.tagName, assets: r.assets.map((a) => [a.name, a.bytes.toString()]) }))).toEqual([{ tag: 'v1.0', assets: [['notes.txt', bytes.toString()]] }]);
    expect(target.uploads).toHaveLength(1);

    const sent = standIn.requests.length;
    const again = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' }));
    expect(Object.values(again.created).every((n) => n === 0)).toBe(true);
    expect(standIn.requests.slice(sent).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(target.uploads).toHaveLength(1);
  });
});
