// A full disk in the middle of a sync: the run fails with a clear error and loses nothing. The backup root is a
// small tmpfs made by bubblewrap (as root, or in a user namespace otherwise), so the disk really fills up. And a
// backup root mounted read-only (old media on a new host) can still be verified and restored from.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.ts';
import { createUpstream, makeTempDir, refsOf } from './helpers/git-fixtures.ts';

const hasBwrap = spawnSync('sh', ['-c', 'command -v bwrap']).status === 0;
// CI installs bubblewrap (.ci/run); elsewhere the test says why it did not run.
const maybe = hasBwrap || process.env.CI === 'true' ? describe : describe.skip;

maybe('storage faults: a full disk, a read-only root', () => {
  const u = createUpstream();
  afterAll(() => u.cleanup());

  it('fails with a clear error, keeps the mirror refs and every snapshot intact', () => {
    const out = makeTempDir();
    // The tmpfs is mounted over a directory we made, so nothing outside our temp dir is touched.
    const root = join(out, 'root');
    mkdirSync(root);
    const script = [
      'set -u',
      // 1 MiB of root: enough for the first sync of a small repository, not for what comes next.
      `node '${CLI}' sync --root ${root} --repo '${u.bare}' > '${out}/first.out' 2>&1; echo $? > '${out}/first.code'`,
      `git -C ${root}/immutable/acme/widgets.git for-each-ref --format='%(objectname) %(refname)' > '${out}/refs.before'`,
      // Upstream grows by 3 MiB of incompressible data; the fetch cannot fit it.
      `git -C '${u.work}' add big.bin && git -C '${u.work}' -c user.name=t -c user.email=t@e commit -q -m big && git -C '${u.work}' push -q origin main`,
      `node '${CLI}' sync --root ${root} --repo '${u.bare}' > '${out}/second.out' 2>&1; echo $? > '${out}/second.code'`,
      `git -C ${root}/immutable/acme/widgets.git for-each-ref --format='%(objectname) %(refname)' > '${out}/refs.after'`,
      `node '${CLI}' verify --all --root ${root} --repo '${u.bare}' > '${out}/verify.out' 2>&1; echo $? > '${out}/verify.code'`,
      `ls -a ${root}/snapshots/acme/widgets > '${out}/snapshots'`,
      `find ${root} -name 'tmp_*' > '${out}/leftovers'`,
    ].join('\n');
    writeFileSync(join(u.work, 'big.bin'), randomBytes(3 * 1024 * 1024));
    const userns = process.getuid?.() === 0 ? [] : ['--unshare-user', '--uid', String(process.getuid?.()), '--gid', String(process.getgid?.())];
    const run = spawnSync('bwrap', [...userns, '--dev-bind', '/', '/', '--size', String(1024 * 1024), '--tmpfs', root, 'sh', '-c', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: out, BACKUP_RETRY_BASE_MS: '10', GIT_CONFIG_NOSYSTEM: '1' },
    });
    expect(run.status, run.stderr).toBe(0);
    const read = (name: string) => readFileSync(join(out, name), 'utf8');
    expect(read('first.code').trim()).toBe('0');
    expect(read('second.code').trim()).toBe('1');
    expect(read('second.out')).toMatch(/no space left on device/i);
    // fetch --atomic: not one ref moved, and the only snapshot is whole.
    expect(read('refs.after')).toBe(read('refs.before'));
    expect(read('refs.after')).toContain(refsOf(u.bare)['refs/heads/feature']);
    expect(read('verify.code').trim()).toBe('0');
    expect(read('snapshots').split('\n').filter((n) => n.startsWith('snapshot-'))).toHaveLength(1);
    expect(read('snapshots')).not.toMatch(/\.tmp-/);
    // git leaves its partial tmp_pack behind on ENOSPC; the engine removes it, so the space comes back.
    expect(read('second.out')).toMatch(/removed .*tmp_pack_\w+ left by a failed or interrupted fetch/);
    expect(read('leftovers')).toBe('');
  });

  it('verifies and restores from a backup root mounted read-only', () => {
    const out = makeTempDir();
    const root = join(out, 'root');
    const sync = spawnSync(process.execPath, [CLI, 'sync', '--root', root, '--repo', u.bare], { encoding: 'utf8' });
    expect(sync.status, sync.stderr).toBe(0);
    const restored = join(out, 'restored.git');
    const script = [
      `node '${CLI}' verify --all --root '${root}' --repo '${u.bare}' > '${out}/verify.out' 2>&1; echo $? > '${out}/verify.code'`,
      `node '${CLI}' restore --to '${restored}' --root '${root}' --repo '${u.bare}' > '${out}/restore.out' 2>&1; echo $? > '${out}/restore.code'`,
      `touch '${root}/probe' 2> /dev/null && echo writable > '${out}/probe' || echo read-only > '${out}/probe'`,
    ].join('\n');
    const userns = process.getuid?.() === 0 ? [] : ['--unshare-user', '--uid', String(process.getuid?.()), '--gid', String(process.getgid?.())];
    const run = spawnSync('bwrap', [...userns, '--dev-bind', '/', '/', '--ro-bind', root, root, 'sh', '-c', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: out, GIT_CONFIG_NOSYSTEM: '1' },
    });
    expect(run.status, run.stderr).toBe(0);
    const read = (name: string) => readFileSync(join(out, name), 'utf8');
    expect(read('probe').trim()).toBe('read-only');
    expect(read('verify.code').trim()).toBe('0');
    expect(read('verify.out')).toMatch(/without registering as a reader: EROFS/);
    expect(read('restore.code').trim()).toBe('0');
    expect(refsOf(restored)).toEqual(refsOf(u.bare));
  });
});
