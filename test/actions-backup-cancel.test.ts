// A cancelled job: the runner sends the action SIGINT. The bundled backup action, run as the runner runs it, stops
// its git mid-fetch, fails the step with exit 130 without a cache upload, and the next run completes the backup
// (docs/OPERATIONS.md "Stopping and crashes").
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createUpstream, makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { CacheStandIn } from './helpers/cache-standin.ts';
import { runAction } from './helpers/github-standin.ts';
import { addBigCommit, BIG, FAST, gitOfRun, SLOW, until } from './helpers/slow-fetch.ts';
import { startSlowGitServer } from './helpers/slow-git-server.ts';

const TOKEN = 'ghp_FAKEcancelTOKENcancelTOKEN0123456789ab';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('actions/backup on a cancelled job', () => {
  it('SIGINT stops its git, fails the step with 130 and no cache upload; the next run syncs', async () => {
    const u = createUpstream();
    cleanups.push(u.cleanup);
    addBigCommit(u, 'big-1.bin');
    const server = await startSlowGitServer(join(u.tmp, 'upstream'), SLOW);
    cleanups.push(() => server.close());
    const cache = await new CacheStandIn().start();
    cleanups.push(() => cache.close());
    const base = makeTempDir('gpb-cancel-');
    const root = join(base, 'backup');
    const inputs = { action: 'sync', repositories: `${server.url}/acme/widgets.git`, 'backup-root': root, 'upload-logs': 'false', cache: 'true' };
    const env = { ...cache.env(), GITHUB_WORKSPACE: base, GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '1' };

    let pid = 0;
    let gitsWhenCancelled: { comm: string }[] = [];
    const run = await runAction('actions/backup', {
      inputs,
      env,
      github: { token: TOKEN },
      onSpawn: (child) => {
        pid = child.pid!;
        void until('the fetch to be under way', () => server.bytesSent() > 256 * 1024 && gitOfRun(pid).some((p) => p.comm === 'git')).then(() => {
          gitsWhenCancelled = gitOfRun(pid);
          child.kill('SIGINT');
        });
      },
    });
    expect(gitsWhenCancelled.map((g) => g.comm)).toContain('git');
    expect(run.code, run.stdout).toBe(130);
    expect(run.stdout).toMatch(/::warning::SIGINT: stopping after sync acme\/widgets, git fetch…/);
    expect(run.stdout).toContain('::error::backup sync was stopped by a signal (the job was cancelled)');
    expect(gitOfRun(pid)).toEqual([]);
    expect(server.bytesSent()).toBeLessThan(BIG);
    expect(cache.lookups).toHaveLength(1); // the warm start was tried before the sync...
    expect(cache.entries).toEqual([]); // ...and nothing was saved after the cancel
    // The token is printed once, masked for the runner; nowhere else.
    expect(run.stdout.split('\n').filter((l) => l.includes(TOKEN))).toEqual([`::add-mask::${TOKEN}`]);
    expect(run.stderr).not.toContain(TOKEN);

    server.setTrickle(FAST);
    const next = await runAction('actions/backup', { inputs, env: { ...env, GITHUB_RUN_ID: '8' }, github: { token: TOKEN } });
    expect(next.code, next.stdout).toBe(0);
    expect(cache.entries.map((e) => e.key)).toEqual(['github-private-backup-root-8-1']);
    expect(refsOf(join(root, 'immutable/acme/widgets.git'))).toEqual(refsOf(u.bare));
  });
});
