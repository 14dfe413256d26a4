// The identity lookup asks for the repository's record with an ETag it kept, also when the repository's settings are
// not captured (src/engine/identity.ts): a quiet sync's lookup is a 304, which costs no rate limit. Its mark is its
// own, so settings switched on later are not fooled by it into keeping a record they never read. Git over HTTP and
// the API on one loopback stand-in, as github.com serves both; asserted on what the stand-in answered.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createBackup, git, okValue, type TestBackup, type Upstream } from './helpers/git-fixtures.ts';
import type { GitHubRecords, RepoRecords } from './helpers/github-records.ts';
import type { GitHubStandIn } from './helpers/github-standin.ts';
import { startUpstreamOnGitHub } from './helpers/github-upstream.ts';

const TOKEN = 'ghp_IDENTITYtoken0123456789abcdefABCDEFab';
const cleanups = cleanupAfterEach();

let upstream: Upstream;
let standIn: GitHubStandIn;
let records: GitHubRecords;
let repo: RepoRecords;

beforeEach(async () => {
  ({ upstream, standIn, records, repo } = await startUpstreamOnGitHub(cleanups));
  upstream.commit('first');
  upstream.push('main');
  repo.addIssue({ title: 'It breaks' });
});

const backupWith = (metadata: Record<string, boolean>) => createBackup([], { repositories: [{ repo: `${standIn.url}/acme/widgets.git`, metadata }], apiUrl: standIn.url, token: TOKEN });

/** The statuses the repository's record was answered with during one sync. */
async function recordAnswers(engine: TestBackup['engine']): Promise<number[]> {
  const from = records.answers.length;
  okValue(await engine.sync());
  return records.answers.slice(from).filter((a) => a.path === '/repos/acme/widgets').map((a) => a.status);
}

const captureState = (backup: TestBackup) => JSON.parse(readFileSync(join(backup.root, 'state/metadata/acme/widgets.json'), 'utf8'));

describe('the identity lookup with settings not captured', () => {
  it('asks with the ETag it kept: a quiet sync is a 304, a changed record a 200 whose ETag is kept in turn', async () => {
    const backup = backupWith({ settings: false });
    // The first sync's lookup has nothing to ask with; the next one asks with its answer's ETag.
    expect(await recordAnswers(backup.engine)).toEqual([200]);
    expect(await recordAnswers(backup.engine)).toEqual([304]);
    const state = captureState(backup);
    expect(state.identity).toMatchObject({ id: repo.id, fullName: 'acme/widgets', etag: expect.any(String) });
    // Not the capture's mark of the record: settings are not captured.
    expect(state.pages['/repos/acme/widgets']).toBeUndefined();

    repo.settings.description = 'Widgets, renamed soon';
    expect(await recordAnswers(backup.engine)).toEqual([200]);
    expect(await recordAnswers(backup.engine)).toEqual([304]);
  });

  it('settings switched on again read the record that changed meanwhile, not a 304 to the lookup\'s ETag', async () => {
    const url = `${standIn.url}/acme/widgets.git`;
    const backup = createBackup([], { repositories: [url], apiUrl: standIn.url, token: TOKEN });
    const off = backup.engineWith({ repositories: [{ repo: url, metadata: { settings: false } }] });
    const repositoryJson = () => JSON.parse(git(join(backup.root, 'metadata/acme/widgets.git'), 'show', 'main:repository.json'));
    await recordAnswers(backup.engine);
    expect(repositoryJson()).toMatchObject({ description: 'Widgets for everyone' });
    // Settings off; the record changes; the lookup learns the new ETag and asks with it.
    repo.settings.description = 'Changed while settings were off';
    expect(await recordAnswers(off)).toEqual([200]);
    expect(await recordAnswers(off)).toEqual([304]);
    // Settings on: the capture's own mark is of the old record, so the record is answered whole and kept as it is now.
    expect(await recordAnswers(backup.engine)).toEqual([200]);
    expect(repositoryJson()).toMatchObject({ description: 'Changed while settings were off' });
    expect(await recordAnswers(backup.engine)).toEqual([304]);
  });
});
