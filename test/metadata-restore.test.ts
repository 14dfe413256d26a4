// restore --metadata-to: a snapshot's records recreated in an empty repository on the GitHub API stand-in
// (docs/RESTORE_RUNBOOK.md "Restoring issues, pull requests and releases"). Asserted on what the stand-in holds and
// on the requests it received: a second run sends no write, a run killed with SIGKILL mid-restore and run again
// duplicates nothing, a dry run sends no write, and the token is in no output and not in the journal.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callRefusal } from '../src/mcp/policy.ts';
import { ExitCode } from '../src/errors.ts';
import { restoreMarker } from '../src/github-metadata/restore-plan.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { envForFile } from './helpers/env.ts';
import { runCli, startCli } from './helpers/cli.ts';
import { okValue } from './helpers/git-fixtures.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';
import { mentionsIn, RestoreTargetModel } from './helpers/github-restore-target.ts';
import { backupWithMetadata, HOSTILE } from './helpers/metadata-snapshot.ts';

const TOKEN = 'ghp_metadataRestoreSecret0123456789abcd';
const cleanups = cleanupAfterEach();
// A "second" of waiting, or of the pacing GitHub asks between writes, is 10 ms here (src/github/client.ts).
envForFile({ BACKUP_RETRY_BASE_MS: '10' });

async function setup() {
  const standIn = new GitHubStandIn();
  await standIn.start();
  const model = await new RestoreTargetModel(standIn, 'rebuilt', 'widgets').withDefaultLabels().start();
  cleanups.push(() => void standIn.close(), () => void model.close());
  const backup = await backupWithMetadata(cleanups, { settings: { apiUrl: standIn.url, token: TOKEN } });
  const journal = join(backup.b.root, 'state', 'metadata-restore', 'rebuilt', 'widgets.jsonl');
  return { standIn, model, ...backup, journal };
}

const writes = (standIn: GitHubStandIn) => standIn.requests.filter((r) => r.method !== 'GET');
const NOTHING = { labels: 0, milestones: 0, issues: 0, pulls: 0, pullsAsIssues: 0, comments: 0, closed: 0, locked: 0, reviews: 0, reviewComments: 0, reviewsAsComments: 0, threadsAsComments: 0, commitComments: 0, releases: 0, assets: 0 };

const cliArgs = (root: string, repo: string, ...extra: string[]) => ['restore', 'latest', '--metadata-to', 'rebuilt/widgets', '--root', root, '--repo', repo, ...extra];

/** What the target holds, in a shape that shows any duplicate. */
function holdings(model: RestoreTargetModel) {
  return {
    labels: [...model.labels.keys()].sort(),
    milestones: model.milestones.map((m) => m.title),
    issues: model.issues.map((i) => ({ number: i.number, title: i.title, state: i.state, comments: i.comments.length, pull: i.pull !== null })),
    releases: model.releases.map((r) => ({ tag: r.tagName, assets: r.assets.map((a) => a.name) })),
  };
}

describe('restore --metadata-to', () => {
  it('recreates labels, milestones, issues with comments, closed ones closed, pull requests as issues with their reviews, releases with assets', async () => {
    const { standIn, model, b, snapshot, sample, journal } = await setup();
    const value = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' }));
    expect(value).toMatchObject({ snapshot, metadataTarget: 'rebuilt/widgets', dryRun: false, alreadyDone: 0, journal });
    expect(value.created).toEqual({ ...NOTHING, labels: 1, milestones: 1, issues: 2, pullsAsIssues: 1, comments: 4, closed: 1, reviewsAsComments: 1, threadsAsComments: 1, releases: 1, assets: 2 });
    expect(value.notRestored).toEqual([
      { kind: 'asset', what: 'asset "huge.iso" of release 900', reason: 'not in the backup: over metadata.assetMaxBytes (1 GiB)' },
      // The sample's commit is in no git data of the target: reported, not dropped.
      { kind: 'commitComment', what: 'commit comment 700 on cccccccccccc', reason: 'commit cccccccccccc is not in rebuilt/widgets (restore --push the git data first, then run this again)' },
    ]);
    expect(value.byKind).toMatchObject({ issue: { created: 3, alreadyPresent: 0, skipped: 0 }, review: { created: 1 }, thread: { created: 1 }, asset: { created: 2, skipped: 1 }, commitComment: { created: 0, skipped: 1 } });
    // A pull request recreated as an issue is no review form lost: nothing fell back from a real pull request.
    expect(value.fellBack).toEqual([]);

    // GitHub's default "bug" label takes the backed-up description; "enhancement" is created.
    expect(model.labels.get('bug')).toMatchObject({ color: 'd73a4a', description: 'Something is broken' });
    expect(model.labels.get('enhancement')).toMatchObject({ color: 'a2eeef' });
    expect(model.milestones).toEqual([expect.objectContaining({ number: 1, title: 'v1', state: 'open', dueOn: '2026-03-30T12:00:00Z' })]);

    // In an empty repository, created in order, every record gets its old number.
    const [one, two, three] = model.issues;
    expect(model.issues.map((i) => i.number)).toEqual([1, 2, 3]);
    expect(one).toMatchObject({ title: 'Crash on start', state: 'open', labels: ['bug'], milestone: 1 });
    expect(one!.body).toBe(`> Originally #1 by [alice](${standIn.url}/alice) on 2026-03-01.\n>\n> Assigned to [bob](${standIn.url}/bob).\n<!-- github-private-backup:restored=acme%2Fwidgets%23issue%3A1 -->\n\nBody of 1`);
    // The reaction counts go in the header line; the reactions themselves cannot be given as their users.
    expect(one!.comments.map((c) => c.body.split('\n')[0])).toEqual([`> Originally a comment by [bob](${standIn.url}/bob) on 2026-03-02 on #1 · 👍 2.`, '> Originally a comment by a deleted account on 2026-03-03 on #1.']);
    expect(one!.comments[0]!.body.endsWith('\n\nI see it too')).toBe(true);
    // The hostile text is restored as it was written: GitHub renders it, as it did the first time.
    expect(two).toMatchObject({ title: HOSTILE.title, state: 'closed', stateReason: 'completed' });
    expect(two!.body.endsWith(`\n\n${HOSTILE.body}`)).toBe(true);
    // Not a login GitHub could have: a code span, never a link or markup.
    expect(two!.body).toContain(`by \`${HOSTILE.login}\` on 2026-03-01.`);
    // The pull request, with no branches in the target, is an issue with its conversation, review and review thread.
    expect(three).toMatchObject({ title: 'Add the widget', pull: null, labels: ['enhancement'], state: 'open' });
    // Its labels came with its creation: no update was needed for it.
    expect(standIn.calls).not.toContain('PATCH /repos/rebuilt/widgets/issues/3');
    expect(three!.body.startsWith(`> Originally pull request #3 by [carol](${standIn.url}/carol) on 2026-03-01.\n>\n> From \`feature\` (bbbbbbbbbbbb) into \`main\` (aaaaaaaaaaaa).`)).toBe(true);
    const [thanks, review, thread] = three!.comments.map((c) => c.body);
    expect(thanks).toContain('Thanks!');
    expect(review!.startsWith(`> Originally a review by [bob](${standIn.url}/bob) on 2026-03-07 on #3: changes requested.`)).toBe(true);
    expect(thread).toContain(`> Originally a review thread on #3, \`feature.txt\` line 1, started by [bob](${standIn.url}/bob) on 2026-03-07.`);
    expect(thread).toContain(`\`\`\`diff\n${HOSTILE.hunk}\n\`\`\``);
    expect(thread!.indexOf(`**[bob](${standIn.url}/bob)** on 2026-03-07:\n\nRename this.`)).toBeLessThan(thread!.indexOf(`**[carol](${standIn.url}/carol)** on 2026-03-08:\n\nDone.`));

    const [release] = model.releases;
    expect(release).toMatchObject({ tagName: 'v1.0', name: 'First release', targetCommitish: 'main', draft: false });
    expect(release!.body.startsWith(`> Originally released by [alice](${standIn.url}/alice) on 2026-03-09 (tag \`v1.0\`).`)).toBe(true);
    // No request names an original author as a mention: restoring notifies no one.
    expect(mentionsIn(standIn, ['alice', 'bob', 'carol', 'dave', HOSTILE.login])).toEqual([]);
    expect(release!.assets.map((a) => ({ name: a.name, label: a.label, bytes: a.bytes }))).toEqual([
      { name: HOSTILE.fileName, label: 'the binary', bytes: sample.assets[0] },
      { name: 'notes.txt', label: null, bytes: sample.assets[1] },
    ]);
    expect(release!.assets[1]!.contentType).toBe('text/plain');

    // Every request carried the token, as GitHub's API wants it; the journal holds numbers, never the token.
    expect(standIn.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    expect(readFileSync(journal, 'utf8')).not.toContain(TOKEN);
    expect(readFileSync(journal, 'utf8')).toContain('{"done":"issue:1","id":1}');
  });

  it('a second run creates nothing: no POST or PATCH is sent', async () => {
    const { standIn, model, b } = await setup();
    okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' }));
    const before = holdings(model);
    const sent = standIn.requests.length;
    const again = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' }));
    expect(again.created).toEqual(NOTHING);
    expect(again.alreadyDone).toBeGreaterThan(15);
    expect(standIn.requests.slice(sent).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(holdings(model)).toEqual(before);
  });

  it('recreates a pull request as one when its branches exist in the target, with its labels', async () => {
    const { standIn, model, b } = await setup();
    model.branches.add('main').add('feature');
    const value = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' }));
    expect(value.created).toMatchObject({ pulls: 1, pullsAsIssues: 0 });
    expect(model.issue(3)).toMatchObject({ pull: { head: 'feature', base: 'main', draft: false }, labels: ['enhancement'], comments: expect.any(Array) });
    expect(standIn.calls).toContain('POST /repos/rebuilt/widgets/pulls');
    // A pull request takes no labels when it is created: they are set after.
    expect(standIn.calls).toContain('PATCH /repos/rebuilt/widgets/issues/3');
    expect(model.issue(3)!.comments).toHaveLength(3);
  });

  it('--dry-run lists what it would create and sends no POST', async () => {
    const { standIn, model, b, journal } = await setup();
    const value = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets', dryRun: true }));
    expect(value.dryRun).toBe(true);
    expect(value.planned).toEqual(
      expect.arrayContaining([
        'label "bug"',
        'milestone "v1" (was 1)',
        'issue #1 "Crash on start"',
        'comment 11 on issue #1',
        'close issue #2',
        'issue for pull request #3 "Add the widget"',
        'review 301 on pull #3 (as a comment)',
        'review thread 3001 on pull #3, "feature.txt" (as a comment quoting the diff and every reply)',
        'release "First release" (tag v1.0)',
        'asset "notes.txt" of release 900',
      ]),
    );
    expect(value.notRestored.map((n) => n.kind)).toEqual(['asset', 'commitComment']);
    expect(value.byKind).toMatchObject({ review: { created: 1, alreadyPresent: 0 }, thread: { created: 1 }, commitComment: { created: 0, skipped: 1 } });
    expect(writes(standIn)).toEqual([]);
    expect(model.uploads).toEqual([]);
    expect(model.issues).toEqual([]);
    expect(existsSync(journal)).toBe(false);
  });

  it('refuses a repository with issues it did not create, unless forced (which keeps them)', async () => {
    const { standIn, model, b } = await setup();
    model.addIssue('already here');
    const refused = await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' });
    expect(refused.exitCode).toBe(ExitCode.USAGE);
    expect(refused.outcomes[0]).toMatchObject({ ok: false, error: expect.stringMatching(/already has 1 issue\(s\) or pull request\(s\) this restore did not create \(#1\).*--force/) });
    expect(writes(standIn)).toEqual([]);

    const forced = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets', force: true }));
    expect(forced.created.issues).toBe(2);
    expect(model.issues.map((i) => i.title)).toEqual(['already here', 'Crash on start', HOSTILE.title, 'Add the widget']);
    // Recreated records name their original number; the new ones moved up by one.
    expect(model.issue(2)!.body.startsWith(`> Originally #1 by [alice](${standIn.url}/alice)`)).toBe(true);
  });

  it('a target that does not exist is "not found" (exit 10); a missing token is refused before any request', async () => {
    const { b, standIn } = await setup();
    const missing = await b.engine.restoreMetadata({ metadataTo: 'nobody/nothing' });
    expect(missing.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(existsSync(join(b.root, 'state', 'metadata-restore', 'nobody'))).toBe(false);
    expect((missing.outcomes[0] as { error: string }).error).toMatch(/reading the repository in nobody\/nothing \(404 Not Found\)/);
    const sent = standIn.requests.length;
    const noToken = await b.engineWith({ token: undefined }).restoreMetadata({ metadataTo: 'rebuilt/widgets' });
    expect(noToken.exitCode).toBe(ExitCode.AUTH);
    expect(standIn.requests.length).toBe(sent);
  });

  it('waits out a secondary rate limit and goes on: the refused request is sent again, the record created once', async () => {
    const { standIn, model, b } = await setup();
    model.refusals.push({ status: 403, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', status: '403' } });
    const value = okValue(await b.engine.restoreMetadata({ metadataTo: 'rebuilt/widgets' }));
    expect(value.created.labels).toBe(1);
    // The first write (the "bug" label) was refused once, then sent again.
    expect(standIn.calls.filter((c) => c === 'POST /repos/rebuilt/widgets/labels')).toHaveLength(3);
    expect(holdings(model).labels).toEqual(['bug', 'documentation', 'enhancement']);
    expect(model.issues).toHaveLength(3);
  });

  it('MCP: restore into GitHub is refused on a read-only server unless a dry run', () => {
    expect(callRefusal({ tool: 'restore', destructive: true, input: { metadataTo: 'o/n', dryRun: true } }, false)).toBeUndefined();
    expect(callRefusal({ tool: 'restore', destructive: true, input: { metadataTo: 'o/n', dryRun: false } }, false)).toMatch(/creates issues, pull requests and releases in GitHub.*--allow-write/);
    expect(callRefusal({ tool: 'restore', destructive: true, input: { metadataTo: 'o/n', dryRun: false } }, true)).toBeUndefined();
  });
});

describe('backup-manager restore --metadata-to', () => {
  it('killed with SIGKILL mid-restore three times, then run again: everything is there once, and the token is nowhere', async () => {
    const { standIn, model, b, journal } = await setup();
    const env = { GITHUB_API_URL: standIn.url, GITHUB_TOKEN: TOKEN };
    const repo = b.settings.repositories[0] as string;

    // Each killed run dies just after GitHub acted on its n-th write and before the answer reaches it, the worst
    // moment: here while creating a comment, an issue, then a release asset.
    for (const killAt of [5, 2, 8]) {
      const { child, done } = startCli(cliArgs(b.root, repo), env);
      let count = 0;
      model.onWrite = async () => {
        if (++count !== killAt) return;
        child.kill('SIGKILL');
        await done;
      };
      const killed = await done;
      expect(killed.signal).toBe('SIGKILL');
      model.onWrite = undefined;
    }
    expect(model.releases[0]?.assets).toHaveLength(1);

    const run = await runCli(cliArgs(b.root, repo), env);
    expect(run.stderr).not.toContain(TOKEN);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/recreated in rebuilt\/widgets from snapshot-\S+: .*\n\s+reviews: .*\n\s+\d+ step\(s\) already done by an earlier run/);
    expect(holdings(model)).toEqual({
      labels: ['bug', 'documentation', 'enhancement'],
      milestones: ['v1'],
      issues: [
        { number: 1, title: 'Crash on start', state: 'open', comments: 2, pull: false },
        { number: 2, title: HOSTILE.title, state: 'closed', comments: 1, pull: false },
        { number: 3, title: 'Add the widget', state: 'open', comments: 3, pull: false },
      ],
      releases: [{ tag: 'v1.0', assets: [HOSTILE.fileName, 'notes.txt'] }],
    });
    // Each record's marker appears exactly once in the target.
    const bodies = model.issues.flatMap((i) => [i.body, ...i.comments.map((c) => c.body)]);
    for (const key of ['issue:1', 'comment:11', 'comment:12', 'issue:2', 'comment:21', 'pull:3', 'comment:31', 'review:301', 'thread:3001']) {
      expect(bodies.filter((body) => body.includes(restoreMarker('acme/widgets', key))), key).toHaveLength(1);
    }

    const before = standIn.requests.length;
    const again = await runCli([...cliArgs(b.root, repo), '--json'], env);
    expect(again.code).toBe(0);
    expect(standIn.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    for (const text of [run.stdout, again.stdout, again.stderr, readFileSync(journal, 'utf8')]) expect(text).not.toContain(TOKEN);
  });

  it('--dry-run prints what it would create and sends nothing but reads', async () => {
    const { standIn, model, b } = await setup();
    const run = await runCli([...cliArgs(b.root, b.settings.repositories[0] as string), '--dry-run'], { GITHUB_API_URL: standIn.url, GITHUB_TOKEN: TOKEN });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would create issue #1 "Crash on start"');
    expect(run.stdout).toContain('not restored: asset "huge.iso" of release 900: not in the backup');
    expect(writes(standIn)).toEqual([]);
    expect(model.uploads).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });
});
