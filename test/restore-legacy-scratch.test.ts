// The scratch an earlier version's killed `restore --to DIR` left beside DIR, named `.DIR.restore-<8 hex>` with no run
// in it (src/engine/scratch.ts): nothing says whether its run is alive, so the next restore to that DIR removes it
// only once nothing in it changed for a week, and leaves younger ones, other targets' and look-alike names alone.
// Real directories with real modification times, through the CLI.
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { runCli } from './helpers/cli.ts';
import { createBackup, createUpstream, makeTempDir, okValue, refsOf } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();
const DAY_S = 86_400;

/** A repository build as a restore lays it out, every directory and file dated `ageDays` ago. */
function build(dir: string, ageDays: number): void {
  mkdirSync(join(dir, 'objects', 'pack'), { recursive: true });
  writeFileSync(join(dir, 'objects', 'pack', 'pack-0.pack'), 'partial');
  const when = Date.now() / 1000 - ageDays * DAY_S;
  for (const path of [join(dir, 'objects', 'pack', 'pack-0.pack'), join(dir, 'objects', 'pack'), join(dir, 'objects'), dir]) utimesSync(path, when, when);
}

describe('restore --to and the scratch of an earlier version', () => {
  it('removes a week-old .DIR.restore-<hex> beside DIR, and leaves a younger one, another target\'s and other names', async () => {
    const u = createUpstream();
    cleanups.push(u.cleanup);
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const targets = makeTempDir('gpb-legacy-scratch-');
    const to = join(targets, 'widgets.git');

    build(join(targets, '.widgets.git.restore-0badc0de'), 8);
    // Its top directory is old, but the build inside was written an hour ago: a run of an earlier version may be on it.
    build(join(targets, '.widgets.git.restore-1badc0de'), 8);
    utimesSync(join(targets, '.widgets.git.restore-1badc0de', 'objects', 'pack'), Date.now() / 1000 - 3600, Date.now() / 1000 - 3600);
    build(join(targets, '.widgets.git.restore-2badc0de'), 2);
    build(join(targets, '.other.git.restore-3badc0de'), 30);
    build(join(targets, '.widgets.git.restore-notes'), 30);

    const run = await runCli(['restore', 'latest', '--root', b.root, '--repo', u.bare, '--to', to, '-v']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain(`removed ${join(targets, '.widgets.git.restore-0badc0de')}, the scratch directory of an interrupted restore of an earlier version`);
    for (const young of ['.widgets.git.restore-1badc0de', '.widgets.git.restore-2badc0de']) {
      expect(run.stderr).toContain(`left ${join(targets, young)}: an earlier version's restore built it, changed less than 7 days ago`);
    }
    expect(readdirSync(targets).sort()).toEqual(['.other.git.restore-3badc0de', '.widgets.git.restore-1badc0de', '.widgets.git.restore-2badc0de', '.widgets.git.restore-notes', 'widgets.git']);
    expect(refsOf(to)).toEqual(refsOf(u.bare));
  });
});
