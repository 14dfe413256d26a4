#!/usr/bin/env node
// npm run bench, restore section (docs/BENCHMARKS.md "Restore time (RTO)"): what a restore costs beside what git
// and a copy cost on the same snapshot, and what git itself takes in memory on a large pack.
//
//  1. Generate an upstream of --large MiB (default 64) of incompressible blobs with `git fast-import` (1 MiB random
//     blobs, 8 per commit, in one pack), `init` it from a file:// URL and take a `snapshot`.
//  2. Reference: a plain copy of the snapshot directory (`cp -r`) plus `git fsck --connectivity-only` in the copy.
//  3. `restore --to` (default check: every file's sha256 plus git fsck --connectivity-only) and `restore --to
//     --verify full` through the CLI; `git fsck --full --strict` alone for comparison.
//  4. Peak RSS: of our process (bench/rss-probe.mjs), and of git itself (its process tree's RssAnon and RssFile,
//     sampled from /proc every 20 ms) for the init's transfer (`git clone --mirror`: index-pack hashes the whole
//     pack), `fsck --connectivity-only` and `fsck --full`.
//  5. Restore from the store (bench/store-restore-section.mjs): the snapshot pushed to a local-directory store and
//     to s3rver, restored from each onto nothing, beside a plain copy or download of the same objects, their sha256,
//     `git index-pack` of each pack and the connectivity check above.
//
// Options: --large MiB (default 64), --upstream PATH (back up this repository instead of generating one: an
// object-rich real one, such as a clone of git/git, shows what index-pack and fsck cost), --no-store, --no-s3 (the
// local-directory store only), --keep, --json. Every timed step runs once, after the page cache holds the snapshot
// (one untimed read first): a restore after a disaster may read it cold, which adds the disk's read time.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { clearInterval, setInterval } from 'node:timers';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CLI, fmtMs, log, makeWorkDir, now, option, removeWorkDir, requireBuiltCli } from './harness.mjs';
import { storeRestoreSection } from './store-restore-section.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PROBE = join(here, 'rss-probe.mjs');
const MIB = option('large', 64);
const UPSTREAM = process.argv.includes('--upstream') ? process.argv[process.argv.indexOf('--upstream') + 1] : null;
const BLOB = 1 << 20;
const PER_COMMIT = 8;
requireBuiltCli();

const { work, env } = makeWorkDir('backup-restore-');
const mb = (kib) => `${(kib / 1024).toFixed(0)} MB`;

function run(cmd, args, options = {}) {
  const started = now();
  const result = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  const ms = now() - started;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${(result.stderr || result.stdout).slice(0, 2000)}`);
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

/** RssAnon and RssFile (KiB) of `pid` and every process below it, summed, from /proc. */
function memoryOfTree(pid) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  let anon = 0;
  let file = 0;
  for (const p of tree) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      anon += Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
      file += Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return { anon, file };
}

/**
 * `cmd` with its memory sampled every 20 ms: elapsed milliseconds, and the peak anonymous and file-backed resident
 * memory (KiB) of it and its children. File-backed is the pack git maps: page cache the kernel can drop and re-read,
 * where anonymous memory is what a container's limit must leave room for.
 */
function measured(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    const peak = { anon: 0, file: 0 };
    const timer = setInterval(() => {
      const m = memoryOfTree(child.pid);
      peak.anon = Math.max(peak.anon, m.anon);
      peak.file = Math.max(peak.file, m.file);
    }, 20);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(0, 2000)}`));
      else resolve({ ms: now() - started, anonKiB: peak.anon, fileKiB: peak.file });
    });
  });
}

/** The CLI as a child process with its peak RSS (KiB) from the probe. */
function cli(args) {
  const rssFile = join(work, `rss-${Math.random().toString(36).slice(2)}`);
  const { ms } = run(process.execPath, ['--import', pathToFileURL(PROBE).href, CLI, ...args], { env: { ...env, BENCH_RSS_FILE: rssFile } });
  // The probe writes "<peak RSS KiB> <CPU ms>" (bench/rss-probe.mjs).
  return { ms, rssKiB: Number(readFileSync(rssFile, 'utf8').trim().split(/\s+/)[0]) };
}

/** fast-import of MIB one-MiB random blobs, written as a stream (the data never sits in memory whole). */
function generate(bare) {
  run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  return new Promise((resolve, reject) => {
    // Random bytes do not compress: zlib would only spend time finding that out (the pack is the same size).
    const child = spawn('git', ['-c', 'pack.compression=0', 'fast-import', '--quiet'], { cwd: bare, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${stderr}`))));
    (async () => {
      const write = (chunk) => (child.stdin.write(chunk) ? Promise.resolve() : new Promise((r) => child.stdin.once('drain', r)));
      let time = 1_700_000_000;
      for (let c = 0; c * PER_COMMIT < MIB; c++) {
        const message = `add blobs ${c}`;
        await write(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${(time += 60)} +0000\ndata ${message.length}\n${message}\n`);
        for (let k = 0; k < PER_COMMIT && c * PER_COMMIT + k < MIB; k++) {
          await write(`M 100644 inline data/blob-${c}-${k}.bin\ndata ${BLOB}\n`);
          await write(randomBytes(BLOB));
          await write('\n');
        }
      }
      child.stdin.end();
    })().catch(reject);
  });
}

/**
 * A bare repository with the branches, tags and HEAD of the repository at `source`, in one pack: what a backup
 * fetches of it. (Other refs may name objects a partial clone lacks.)
 */
function copyBranchesAndTags(source, bare) {
  run('git', ['init', '--quiet', '--bare', bare]);
  run('git', ['-C', bare, 'fetch', '--quiet', source, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']);
  run('git', ['-C', bare, 'symbolic-ref', 'HEAD', run('git', ['-C', source, 'symbolic-ref', 'HEAD']).stdout.trim()]);
}

const sizeOf = (dir) => Number(run('du', ['-sk', dir]).stdout.split('\t')[0]) * 1024;

const started = now();
const results = { mib: MIB, upstream: UPSTREAM };
try {
  const what = UPSTREAM ? `a copy of ${UPSTREAM}` : `${MIB} MiB of incompressible blobs`;
  log(`github-private-backup restore benchmark: ${what}, ${cpus().length} CPU(s), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, ${run('git', ['--version']).stdout.trim()}`);
  const upstream = join(work, 'upstream', 'bench', 'large.git');
  let t = now();
  if (UPSTREAM) copyBranchesAndTags(UPSTREAM, upstream);
  else await generate(upstream); // one pack, as a server's repository
  log(`upstream: ${(sizeOf(upstream) / 2 ** 20).toFixed(0)} MiB packed (${UPSTREAM ? 'fetched' : 'generated'} in ${fmtMs(now() - t)})`);

  const root = join(work, 'root');
  const args = ['--root', root, '--repo', pathToFileURL(upstream).href];
  const init = cli(['init', ...args]);
  const snap = cli(['snapshot', ...args]);
  const parent = join(root, 'snapshots', 'bench', 'large');
  const snapshot = join(parent, readdirSync(parent).filter((n) => n.startsWith('snapshot-'))[0]);
  // What git itself takes: the same transfer as init, and both fsck depths, under GNU time.
  const cloneRef = await measured('git', ['clone', '--quiet', '--mirror', pathToFileURL(upstream).href, join(work, 'clone-ref.git')]);
  // Each copy goes once measured, and the upstream once cloned, so a 10 GiB run needs about 4x its size on disk.
  const drop = (...dirs) => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  drop(join(work, 'clone-ref.git'), upstream);
  run('cat', [join(snapshot, 'objects', 'pack', readdirSync(join(snapshot, 'objects', 'pack')).find((n) => n.endsWith('.pack')))], { stdio: 'ignore' });

  // Reference: a plain copy plus git's connectivity check.
  const copy = join(work, 'plain-copy');
  const cpMs = run('cp', ['-r', snapshot, copy]).ms;
  const connectivity = await measured('git', ['fsck', '--connectivity-only', '--no-progress'], { cwd: copy });
  const fullFsck = await measured('git', ['fsck', '--full', '--strict', '--no-progress'], { cwd: copy });

  drop(copy);
  const restored = cli(['restore', '--to', join(work, 'restored'), ...args]);
  drop(join(work, 'restored'));
  const restoredFull = cli(['restore', '--to', join(work, 'restored-full'), '--verify', 'full', ...args]);
  drop(join(work, 'restored-full'));

  const reference = cpMs + connectivity.ms;
  const ratio = restored.ms / reference;
  Object.assign(results, {
    initMs: init.ms, snapshotMs: snap.ms, cpMs, connectivityMs: connectivity.ms, fullFsckMs: fullFsck.ms,
    restoreMs: restored.ms, restoreFullMs: restoredFull.ms,
    rssKiB: { init: init.rssKiB, restore: restored.rssKiB, restoreFull: restoredFull.rssKiB },
    gitKiB: { clone: cloneRef, connectivity, fullFsck },
  });
  const gitMemory = (m) => `git's peak RSS ${mb(m.anonKiB)} anonymous + ${mb(m.fileKiB)} mapped pack`;
  const rows = [
    ['init (file:// transfer of the pack)', fmtMs(init.ms), '', `our peak RSS ${mb(init.rssKiB)}; git clone --mirror alone ${fmtMs(cloneRef.ms)}, ${gitMemory(cloneRef)}`],
    ['snapshot', fmtMs(snap.ms), '', `our peak RSS ${mb(snap.rssKiB)}`],
    ['cp -r of the snapshot', fmtMs(cpMs), '', ''],
    ['git fsck --connectivity-only', fmtMs(connectivity.ms), '', gitMemory(connectivity)],
    ['  copy + connectivity (reference)', fmtMs(reference), '1.00x', ''],
    ['restore --to (checksums + connectivity)', fmtMs(restored.ms), `${ratio.toFixed(2)}x`, `target <= 2x: ${ratio <= 2 ? 'met' : 'NOT met'}; our peak RSS ${mb(restored.rssKiB)}`],
    ['git fsck --full --strict', fmtMs(fullFsck.ms), `${(fullFsck.ms / reference).toFixed(2)}x`, gitMemory(fullFsck)],
    ['restore --to --verify full', fmtMs(restoredFull.ms), `${(restoredFull.ms / reference).toFixed(2)}x`, `our peak RSS ${mb(restoredFull.rssKiB)}`],
  ];
  if (!process.argv.includes('--no-store')) {
    const store = await storeRestoreSection({
      work, env, run, cli: CLI, root, repoUrl: pathToFileURL(upstream).href, repo: 'bench/large',
      connectivityMs: connectivity.ms, s3: !process.argv.includes('--no-s3'), fmtMs,
    });
    results.fromStore = store.results;
    rows.push(...store.rows);
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  log('');
  for (const row of rows) log(`  ${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2].padEnd(widths[2])}  ${row[3]}`.trimEnd());
  log(`\ntotal ${fmtMs(now() - started)}`);
  if (process.argv.includes('--json')) log(JSON.stringify(results));
} finally {
  removeWorkDir(work);
}
