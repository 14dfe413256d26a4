// The issue's point-in-time test end to end: sync captures from the GitHub API stand-in (git over HTTP and the API on
// one loopback server, as github.com serves both), an issue is edited upstream between two syncs, and the older
// snapshot still shows the old text (docs/METADATA_FORMAT.md "In a snapshot"). No ref moved: the metadata alone
// made the second snapshot. verify, status and list then report on the captured metadata.
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO } from '../src/github-metadata/format.ts';
import { readMetadata } from '../src/metadata.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createBackup, git, okValue } from './helpers/git-fixtures.ts';
import type { RepoRecords } from './helpers/github-records.ts';
import type { GitHubStandIn } from './helpers/github-standin.ts';
import { startUpstreamOnGitHub } from './helpers/github-upstream.ts';

const TOKEN = 'ghp_POINTinTIMEtoken0123456789abcdefABCD';
const cleanups = cleanupAfterEach();

let standIn: GitHubStandIn;
let repo: RepoRecords;

beforeEach(async () => {
  ({ standIn, repo } = await startUpstreamOnGitHub(cleanups));
  repo.addIssue({ title: 'It breaks', body: 'the original text' });
  repo.addRelease('v1.0', [{ name: 'notes.txt', bytes: Buffer.from('release notes\n') }]);
});

const show = (snapshot: string, spec: string) => git(snapshot, '--git-dir', join(snapshot, SNAPSHOT_METADATA_REPO), 'show', spec);

describe('point in time, captured from the API stand-in', () => {
  it('an issue edited upstream between two syncs: the older snapshot still shows the old text', async () => {
    const b = createBackup([], { repositories: [`${standIn.url}/acme/widgets.git`], apiUrl: standIn.url, token: TOKEN });
    const first = okValue(await b.engine.sync());
    const older = first.snapshot!.path;
    expect((await readMetadata(older)).githubMetadata).toMatchObject({ commit: first.metadata!.commit, kinds: { issues: { state: 'complete', count: 1 } }, assets: { files: 1, bytes: 14 } });

    repo.editIssue(1, { body: 'edited on GitHub the next day' });
    const second = okValue(await b.engine.sync());
    expect(second.changed).toBe(false); // no ref moved
    expect(second.snapshot).not.toBeNull();
    const newer = second.snapshot!.path;
    expect(JSON.parse(show(older, 'main:issues/1.json')).body).toBe('the original text');
    expect(JSON.parse(show(newer, 'main:issues/1.json')).body).toBe('edited on GitHub the next day');
    // One asset, downloaded once, shared by both snapshots.
    const sha256 = Object.keys((await readMetadata(newer)).files).find((p) => p.startsWith(`${SNAPSHOT_METADATA_ASSETS}/`))!;
    expect((await readMetadata(older)).files[sha256]).toEqual((await readMetadata(newer)).files[sha256]);

    // Nothing new upstream: the capture commits nothing, and no snapshot is taken.
    expect(okValue(await b.engine.sync()).snapshot).toBeNull();
    expect(okValue(await b.engine.verify({ all: true })).snapshots.map((s) => s.ok)).toEqual([true, true]);
    const status = okValue(await b.engine.status());
    expect(status.githubMetadata?.commit).toBe(second.metadata!.commit);
    expect(status.githubMetadata?.kinds.issues).toMatchObject({ state: 'complete', count: 1 });
  });
});
