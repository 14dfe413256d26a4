// What a snapshot records of its refs and HEAD is exactly what git says of the snapshot, whether git was asked
// (the mirror changed since the previous snapshot) or the previous record was carried over (the copy repeats the
// previous snapshot byte for byte: src/repeated-snapshot.ts, no git process at all). Awkward repositories on
// purpose: annotated tags, a ref name that is not UTF-8, an unborn HEAD, a loose ref beside packed ones, a symbolic
// ref, a detached HEAD, a packed-refs file git reads but did not write that way. Counted with a recording git
// first on PATH around the bundled CLI (test/helpers/git-calls.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refKeyFromBytes, type RefMap } from '../src/refs.ts';
import type { RunResult, StatusRepoResult, VerifyRepoResult } from '../src/types.ts';
import { runCli } from './helpers/cli.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { recordGitCalls, type GitCallLog } from './helpers/git-calls.ts';
import { createUpstream, git, makeTempDir, type Upstream } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();

interface Scene {
  u: Upstream;
  root: string;
  mirror: string;
  calls: GitCallLog;
  cli(...args: string[]): Promise<string>;
}

function scene(): Scene {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  const dir = makeTempDir('gpb-snap-record-');
  cleanups.push(() => {
    spawnSync('chmod', ['-R', 'u+w', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const root = join(dir, 'backup');
  const calls = recordGitCalls(dir);
  return {
    u,
    root,
    mirror: join(root, 'immutable', 'acme', 'widgets.git'),
    calls,
    async cli(...args) {
      const run = await runCli([...args, '--root', root, '--repo', u.bare, '--json'], { PATH: calls.path });
      expect(run.code, run.stderr).toBe(0);
      return run.stdout;
    },
  };
}

/** Bytes out of git, for names that are not UTF-8; null when git exits non-zero. */
function gitBytes(dir: string, ...args: string[]): Buffer | null {
  const run = spawnSync('git', ['-C', dir, ...args], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  return run.status === 0 ? run.stdout : null;
}

/** What git itself says of a repository: every ref, the ref HEAD names, HEAD's commit. */
function gitView(dir: string): { refs: RefMap; headRef: string | null; head: { hash: string; date: string; subject: string } | null } {
  const refs: RefMap = {};
  const listed = gitBytes(dir, 'for-each-ref', '--format=%(objectname) %(refname)')!;
  for (let start = 0; start < listed.length; ) {
    const end = listed.indexOf(0x0a, start);
    const space = listed.indexOf(0x20, start);
    refs[refKeyFromBytes(listed.subarray(space + 1, end))] = listed.toString('latin1', start, space);
    start = end + 1;
  }
  const symbolic = gitBytes(dir, 'symbolic-ref', '-q', 'HEAD');
  const log = gitBytes(dir, 'log', '-1', '--format=%H%x00%cI%x00%s', 'HEAD');
  const [hash = '', date = '', subject = ''] = log?.toString('utf8').replace(/\n$/, '').split('\0') ?? [];
  return {
    refs,
    headRef: symbolic?.length ? refKeyFromBytes(symbolic.subarray(0, -1)) : null,
    head: log?.length ? { hash, date, subject } : null,
  };
}

/** The newest snapshot's directory and what its snapshot.json records. */
function newestSnapshot(s: Scene): { dir: string; recorded: ReturnType<typeof gitView> } {
  const parent = join(s.root, 'snapshots', 'acme', 'widgets');
  const dir = join(parent, readdirSync(parent).sort().at(-1)!);
  const { refs, headRef, head } = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
  return { dir, recorded: { refs, headRef, head } };
}

/**
 * A snapshot of the changed mirror asks git; one more of the same mirror asks nothing and records the same. Both
 * records are what git says of the snapshot directory.
 */
async function snapshotTwice(s: Scene): Promise<ReturnType<typeof gitView>> {
  s.calls.take();
  await s.cli('snapshot');
  expect(s.calls.take()).toContain('for-each-ref');
  const asked = newestSnapshot(s);
  expect(asked.recorded).toEqual(gitView(asked.dir));
  await s.cli('snapshot');
  expect(s.calls.take()).toEqual([]);
  const carried = newestSnapshot(s);
  expect(carried.dir).not.toBe(asked.dir);
  expect(carried.recorded).toEqual(gitView(carried.dir));
  expect(carried.recorded).toEqual(asked.recorded);
  return carried.recorded;
}

describe('the refs and HEAD a snapshot records', () => {
  it('are carried without git from the previous snapshot when nothing changed: annotated tags, a name that is not UTF-8', async () => {
    const s = scene();
    // Node would encode a JS string as UTF-8: let the shell write the raw byte 0xE9.
    expect(spawnSync('sh', ['-c', 'git -C "$1" update-ref "$(printf \'refs/heads/caf\\351\')" refs/heads/main', 'sh', s.u.bare]).status).toBe(0);
    git(s.u.work, 'tag', '-a', '-m', 'Release 2', 'v2.0');
    s.u.push('v2.0');
    await s.cli('sync');
    const synced = newestSnapshot(s);
    expect(synced.recorded).toEqual(gitView(synced.dir));
    expect(Object.keys(synced.recorded.refs)).toContain('refs/heads/caf\\xe9');
    // An annotated tag is recorded as the tag object, as git lists it.
    expect(synced.recorded.refs['refs/tags/v2.0']).toBe(git(s.u.bare, 'rev-parse', 'refs/tags/v2.0').trim());
    expect(synced.recorded.refs['refs/tags/v2.0']).not.toBe(git(s.u.bare, 'rev-parse', 'refs/tags/v2.0^{commit}').trim());

    s.calls.take();
    await s.cli('snapshot');
    // Not one git process: no for-each-ref, no log, no walk for the root commits, none for the status summary.
    expect(s.calls.take()).toEqual([]);
    const carried = newestSnapshot(s);
    expect(carried.recorded).toEqual(gitView(carried.dir));
    expect(carried.recorded).toEqual(synced.recorded);
    const upstream = (dir: string) => JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')).upstream;
    expect(upstream(carried.dir)).toEqual(upstream(synced.dir));
    expect(upstream(carried.dir).rootCommits).toEqual([git(s.u.bare, 'rev-list', '--max-parents=0', 'main').trim()]);
    // verify re-reads everything of both, and git agrees with their records.
    const verified = JSON.parse(await s.cli('verify', '--all')) as RunResult<VerifyRepoResult>;
    expect(verified.exitCode).toBe(0);
    const checked = verified.outcomes[0]!.ok ? verified.outcomes[0]!.value.snapshots : [];
    expect(checked.map((c) => [c.name, c.ok])).toEqual([synced.dir, carried.dir].map((d) => [d.split('/').at(-1), true]));
  });

  it('a loose ref beside packed ones, then a symbolic ref', async () => {
    const s = scene();
    await s.cli('sync');
    git(s.mirror, 'update-ref', 'refs/heads/loose', 'refs/heads/feature');
    const withLoose = await snapshotTwice(s);
    expect(withLoose.refs['refs/heads/loose']).toBe(git(s.u.bare, 'rev-parse', 'feature').trim());

    git(s.mirror, 'symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
    const withAlias = await snapshotTwice(s);
    expect(withAlias.refs['refs/heads/alias']).toBe(git(s.u.bare, 'rev-parse', 'main').trim());
  });

  it('an unborn HEAD, then a detached one', async () => {
    const s = scene();
    await s.cli('sync');
    git(s.mirror, 'symbolic-ref', 'HEAD', 'refs/heads/nothing-yet');
    const unborn = await snapshotTwice(s);
    expect(unborn).toMatchObject({ headRef: 'refs/heads/nothing-yet', head: null });

    writeFileSync(join(s.mirror, 'HEAD'), `${git(s.u.bare, 'rev-parse', 'feature').trim()}\n`);
    const detached = await snapshotTwice(s);
    expect(detached.headRef).toBeNull();
    expect(detached.head?.hash).toBe(git(s.u.bare, 'rev-parse', 'feature').trim());
  });

  it('a packed-refs file with other bytes but the same refs is a doubt: git is asked, and says the same', async () => {
    const s = scene();
    await s.cli('sync');
    const before = newestSnapshot(s).recorded;
    const packed = join(s.mirror, 'packed-refs');
    // git reads a packed-refs file without its header line as well (it then sorts and peels for itself).
    writeFileSync(packed, readFileSync(packed, 'utf8').replace(/^# pack-refs with:.*\n/, ''));
    expect(await snapshotTwice(s)).toEqual(before);
  });

  it('an object file of the previous snapshot gone from the mirror is a doubt too', async () => {
    const s = scene();
    s.u.commit('more');
    s.u.push('main');
    await s.cli('sync');
    const before = newestSnapshot(s).recorded;
    // Repacked into one pack: the same objects and refs in other object files.
    git(s.mirror, 'repack', '-a', '-d', '-q');
    expect(await snapshotTwice(s)).toEqual(before);
  });

  it("HEAD's commit is carried when a sync moved other refs only; git log is asked when HEAD's branch moved", async () => {
    const s = scene();
    await s.cli('sync');
    const logs = () => s.calls.take().filter((c) => c === 'log').length;
    git(s.u.work, 'checkout', '--quiet', 'feature');
    s.u.commit('feature moves', 'feature.txt');
    s.u.push('feature');
    logs();
    await s.cli('sync');
    const featureMoved = logs();
    const afterFeature = newestSnapshot(s);
    expect(afterFeature.recorded).toEqual(gitView(afterFeature.dir));
    git(s.u.work, 'checkout', '--quiet', 'main');
    s.u.commit('main moves', 'main.txt');
    s.u.push('main');
    await s.cli('sync');
    const mainMoved = logs();
    const afterMain = newestSnapshot(s);
    expect(afterMain.recorded).toEqual(gitView(afterMain.dir));
    expect(afterMain.recorded.head?.subject).toBe('main moves');
    // The same sync otherwise (fetch, the summary's measurement of the moved mirror): one log more for the snapshot.
    expect(mainMoved).toBe(featureMoved + 1);
  });

  it('the status summary a repeated snapshot records is what a full measurement finds', async () => {
    const s = scene();
    await s.cli('sync');
    await s.cli('snapshot');
    await s.cli('snapshot');
    const status = () => s.cli('status').then((out) => (JSON.parse(out) as RunResult<StatusRepoResult>).outcomes[0]!);
    const recorded = await status();
    rmSync(join(s.root, 'state', 'summaries', 'acme', 'widgets.json'));
    const measured = await status();
    const counted = (o: typeof recorded) => (o.ok ? { ...o.value, lastSuccessAgeSeconds: 0, newestSnapshotAgeSeconds: 0 } : o);
    expect(counted(recorded)).toEqual(counted(measured));
    expect(recorded.ok && recorded.value.snapshotCount).toBe(3);
  });
});
