// What every bench script needs the same way (docs/BENCHMARKS.md): the bundled CLI, a scratch directory with a git
// environment that ignores the user's config, a millisecond clock, and the lines it prints.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A numeric `--name N` from the command line, or `fallback`. */
export function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** --keep: leave the scratch directory for a look afterwards. */
export const KEEP = process.argv.includes('--keep');
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'backup-manager.mjs');

/** Exits with a clear message when the CLI bundle is not built. */
export function requireBuiltCli() {
  if (existsSync(CLI)) return;
  console.error(`${CLI} is missing: run "npm run build" first (npm run bench does).`);
  process.exit(1);
}

/** A fresh scratch directory, and an environment whose git reads no global or system config. */
export function makeWorkDir(prefix) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
  return { work, env };
}

/** Removes the scratch directory, read-only snapshots included, unless --keep was given. */
export function removeWorkDir(work) {
  if (KEEP) return;
  spawnSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
}

export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
export const log = (line) => process.stdout.write(`${line}\n`);
