#!/usr/bin/env node
// npm run bench: what hardlinked snapshots cost, measured in one run on a generated repository.
//
//  1. Generate an upstream with a few thousand commits and a few hundred refs (git fast-import), init the mirror.
//  2. Simulate 30 daily syncs: each day upstream gets a few commits, a branch update and a tag; `sync` fetches and
//     snapshots; a naive script's `tar -czf` of the whole mirror is written beside it for comparison.
//  3. Measure: snapshot time vs `cp -al` of the same mirror (child processes, alternating, median; plus the engine
//     alone in-process, without Node's start-up), disk used by 30 snapshots (unique inodes, st_blocks) vs the
//     mirror, the same for 30 tar.gz archives, and `status` time with 30 snapshots.
//
// The mirror keeps packed refs and one pack per fetch (src/engine/mirror.ts); docs/BENCHMARKS.md has the numbers
// from before that change, when this bench measured both ways.
//
//  4. The store section (bench/store-section.mjs): the same 30 days against s3rver on 127.0.0.1, pushing each day.
//
// Uses the bundled CLI (dist/backup-manager.mjs): build first (`npm run bench` does). No network, no token.
//  5. The size section: the engine's snapshot of an unchanged mirror --scale times as large (commits, branches,
//     tags), beside `cp -al` of it.
//
// Options: --days N (default 30), --commits N (default 4000), --reps N (default 5), --scale N (default 10; 1 skips
// the size section), --no-store, --keep, --json.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, fmtMs, KEEP, log, makeWorkDir, now, option, removeWorkDir, requireBuiltCli } from './harness.mjs';
import { storeSection } from './store-section.mjs';


const DAYS = option('days', 30);
const COMMITS = option('commits', 4000);
const REPS = option('reps', 5);
const SCALE = option('scale', 10);
const BRANCHES = 250;
const TAGS = 100;
const FILES = 200;

requireBuiltCli();

const { work, env } = makeWorkDir('backup-bench-');
const pristine = join(work, 'pristine.git'); // generated once; the scenario starts from a copy
let upstream, root, mirror, snapshots, tarDir, cpDir, repoUrl, cliArgs;
function usePaths(name) {
  const dir = join(work, name);
  upstream = join(dir, 'upstream', 'bench', 'big.git');
  root = join(dir, 'root');
  mirror = join(root, 'immutable', 'bench', 'big.git');
  snapshots = join(root, 'snapshots', 'bench', 'big');
  tarDir = join(dir, 'naive-tar');
  cpDir = join(dir, 'cp-al');
  repoUrl = pathToFileURL(upstream).href; // file:// so init really transfers a pack, as from a server
  cliArgs = ['--root', root, '--repo', repoUrl];
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtBytes = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

function run(cmd, args, options = {}) {
  const started = now();
  const result = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  const ms = now() - started;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr || result.stdout}`);
  return { ms, stdout: result.stdout };
}
const cli = (...args) => run(process.execPath, [CLI, ...args, ...cliArgs]);
const git = (cwd, ...args) => run('git', args, { cwd }).stdout.trim();

/** Disk used by everything under `paths`, each inode counted once (what hard links really cost). */
function diskUsage(paths, seen = new Set()) {
  let bytes = 0;
  const walk = (p) => {
    const st = lstatSync(p);
    const key = `${st.dev}:${st.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      bytes += st.blocks * 512;
    }
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  for (const p of paths) if (existsSync(p)) walk(p);
  return bytes;
}

/** Wait for the next wall-clock second, so a snapshot never waits for a free name inside a timed step. */
function nextSecond() {
  const wait = 1000 - (Date.now() % 1000) + 20;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
}

// Deterministic text so every run builds the same repository.
let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const WORDS = 'widget engine gear spring lever valve pump shaft rotor stator bearing coupling flange gasket piston cylinder'.split(' ');
const line = () => Array.from({ length: 8 + Math.floor(rand() * 6) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
const files = Array.from({ length: FILES }, () => Array.from({ length: 40 }, line));

/** fast-import commands for one commit that edits one or two files. */
function commitCommand(ref, mark, from, time, message) {
  const parts = [`commit ${ref}`, `mark :${mark}`, `author Bench <bench@example.com> ${time} +0000`, `committer Bench <bench@example.com> ${time} +0000`];
  parts.push(`data ${Buffer.byteLength(message)}`, message);
  if (from) parts.push(`from ${from}`);
  for (let k = 0; k < 1 + Math.floor(rand() * 2); k++) {
    const f = Math.floor(rand() * FILES);
    files[f][Math.floor(rand() * 40)] = line();
    const content = `${files[f].join('\n')}\n`;
    parts.push(`M 100644 inline src/module-${String(f).padStart(3, '0')}.txt`, `data ${Buffer.byteLength(content)}`, content);
  }
  return `${parts.join('\n')}\n`;
}

function fastImport(stream) {
  run('git', ['fast-import', '--quiet'], { cwd: upstream, input: stream });
}

// ---------------------------------------------------------------------------------------------------------------
// 1. the upstream repository

let time = 1_700_000_000;
let mark = 0;

/** A bare upstream at `dir`: `scale` times the commits, branches and tags (and so about the pack bytes and refs). */
function generateUpstream(dir, scale = 1) {
  upstream = dir;
  mkdirSync(upstream, { recursive: true });
  git(upstream, 'init', '--quiet', '--bare', '--initial-branch=main');
  const chunks = [];
  const [branches, tags] = [BRANCHES * scale, TAGS * scale];
  const mainCommits = COMMITS * scale - branches * 4;
  const mainMarks = [];
  for (let i = 0; i < mainCommits; i++) {
    mark++;
    chunks.push(commitCommand('refs/heads/main', mark, i ? `:${mark - 1}` : null, (time += 600), `Change ${i} to the widget engine`));
    mainMarks.push(mark);
  }
  for (let b = 0; b < branches; b++) {
    const base = mainMarks[Math.floor(rand() * mainMarks.length)];
    for (let c = 0; c < 4; c++) {
      mark++;
      chunks.push(commitCommand(`refs/heads/feature/topic-${b}`, mark, c ? `:${mark - 1}` : `:${base}`, (time += 60), `Topic ${b}, step ${c}`));
    }
  }
  for (let t = 0; t < tags; t++) {
    const target = mainMarks[Math.floor(((t + 1) * mainMarks.length) / (tags + 1))];
    const message = `Release 1.${t}`;
    chunks.push(`tag v1.${t}\nfrom :${target}\ntagger Bench <bench@example.com> ${(time += 60)} +0000\ndata ${message.length}\n${message}\n`);
  }
  fastImport(chunks.join(''));
  // A server's repository is packed; fast-import leaves several packs.
  git(upstream, 'repack', '-adq');
}

/**
 * One more commit on main with `bytes` of incompressible files (a deterministic xorshift stream, 1 MiB a file), so
 * that a scaled upstream's pack grows with the scale too: its history alone compresses far better than linearly.
 */
function addBallast(bytes) {
  if (bytes <= 0) return;
  let x = 0x9e3779b9;
  const chunks = [];
  const parts = [`commit refs/heads/main`, `mark :${++mark}`, `author Bench <bench@example.com> ${(time += 60)} +0000`, `committer Bench <bench@example.com> ${time} +0000`, 'data 7', 'Ballast', `from ${git(upstream, 'rev-parse', 'refs/heads/main')}`];
  chunks.push(`${parts.join('\n')}\n`);
  for (let i = 0; i * (1 << 20) < bytes; i++) {
    const blob = Buffer.alloc(Math.min(1 << 20, bytes - i * (1 << 20)));
    for (let j = 0; j + 4 <= blob.length; j += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      blob.writeInt32LE(x | 0, j);
    }
    chunks.push(`M 100644 inline ballast/part-${String(i).padStart(4, '0')}.bin\ndata ${blob.length}\n`, blob, '\n');
  }
  run('git', ['fast-import', '--quiet'], { cwd: upstream, input: Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), encoding: 'buffer' });
  git(upstream, 'repack', '-adq');
}

/** One day of upstream activity: commits on main, one topic branch moved, one new tag. */
function upstreamDay(day) {
  const chunks = [];
  const mainTip = git(upstream, 'rev-parse', 'refs/heads/main');
  for (let i = 0; i < 5; i++) {
    mark++;
    chunks.push(commitCommand('refs/heads/main', mark, i ? `:${mark - 1}` : mainTip, (time += 3600), `Day ${day}: change ${i}`));
  }
  const topic = `refs/heads/feature/topic-${Math.floor(rand() * BRANCHES)}`;
  mark++;
  chunks.push(commitCommand(topic, mark, git(upstream, 'rev-parse', topic), (time += 60), `Day ${day}: topic work`));
  chunks.push(`reset refs/tags/daily-${day}\nfrom :${mark - 1}\n`);
  fastImport(chunks.join(''));
}

// ---------------------------------------------------------------------------------------------------------------
// main

/** Run 30 days and every measurement against a fresh copy of the generated upstream. */
async function scenario(name) {
  usePaths(name);
  mkdirSync(dirname(upstream), { recursive: true });
  run('cp', ['-a', pristine, upstream]);

  const init = cli('init');
  const mirrorDay0 = diskUsage([mirror]);
  log(`\n== ${name}: init ${fmtMs(init.ms)}, mirror ${fmtBytes(mirrorDay0)}, ${countFiles(mirror)} files`);

  mkdirSync(tarDir);
  const syncMs = [];
  const tarMs = [];
  log('day  sync      snapshot taken            tar -czf  mirror files');
  for (let day = 1; day <= DAYS; day++) {
    upstreamDay(day);
    nextSecond();
    const sync = cli('sync', '--json');
    const taken = JSON.parse(sync.stdout).outcomes[0]?.value?.snapshot?.name;
    if (!taken) throw new Error(`day ${day}: sync took no snapshot although upstream changed`);
    syncMs.push(sync.ms);
    const tar = run('tar', ['-czf', join(tarDir, `day-${String(day).padStart(2, '0')}.tar.gz`), '-C', dirname(mirror), 'big.git']);
    tarMs.push(tar.ms);
    if (day <= 3 || day % 5 === 0) log(`${String(day).padStart(3)}  ${fmtMs(sync.ms).padEnd(9)} ${taken.padEnd(25)} ${fmtMs(tar.ms).padEnd(9)} ${countFiles(mirror)}`);
  }

  // Disk, and status/list, with exactly DAYS snapshots (the timing runs below add more).
  const count = readdirSync(snapshots).filter((n) => n.startsWith('snapshot-')).length;
  const disk = {
    mirrorDay0,
    mirrorNow: diskUsage([mirror]),
    snapshotsAlone: diskUsage([snapshots]),
    withMirror: diskUsage([mirror, snapshots]),
    tars: diskUsage([tarDir]),
    count,
    snapshotFiles: countFiles(join(snapshots, readdirSync(snapshots).sort().at(-1))),
  };
  const statusMs = [];
  const listMs = [];
  for (let i = 0; i < REPS; i++) {
    statusMs.push(cli('status').ms);
    listMs.push(cli('list').ms);
  }

  // snapshot vs cp -al, alternating so both see the same mirror and the same cache state.
  mkdirSync(cpDir);
  const cpMs = [];
  const snapMs = [];
  const versionMs = [];
  for (let i = 0; i < REPS; i++) {
    cpMs.push(run('cp', ['-al', mirror, join(cpDir, `copy-${i}`)]).ms);
    nextSecond();
    snapMs.push(cli('snapshot').ms);
    versionMs.push(run(process.execPath, [CLI, '--version']).ms);
  }
  const inProcessMs = [];
  for (let i = 0; i < REPS; i++) inProcessMs.push(await engineSnapshotMs());
  return {
    name,
    disk,
    cp: median(cpMs),
    snap: median(snapMs),
    startup: median(versionMs),
    inProcess: median(inProcessMs),
    status: median(statusMs),
    list: median(listMs),
    sync: median(syncMs),
    tar: median(tarMs),
  };
}

/**
 * The engine alone: the bundled CLI's main() in this process, without Node's start-up and module loading, for a
 * snapshot of the current paths' mirror (after the next wall-clock second, so no name is waited for).
 */
async function engineSnapshotMs() {
  const { main } = await import(pathToFileURL(CLI).href);
  const quiet = { stdout: () => undefined, stderr: () => undefined };
  nextSecond();
  const started = now();
  const code = await main(['snapshot', ...cliArgs], quiet, env);
  const ms = now() - started;
  if (code !== 0) throw new Error(`in-process snapshot exited ${code}`);
  return ms;
}

/**
 * Snapshot of an unchanged mirror `scale` times the size (pack bytes and refs), against `cp -al` of that mirror:
 * the engine's time should not grow with the repository (issue 11), where `cp -al` grows with its files only.
 * Timed alternately with the first scenario's mirror (`small`), so both see the same machine.
 */
async function sizeSection(small, scale) {
  const big = `x${scale}`;
  usePaths(big);
  const t = now();
  generateUpstream(upstream, scale);
  addBallast(scale * diskUsage([pristine]) - diskUsage([upstream]));
  const generated = now() - t;
  cli('init');
  cli('snapshot'); // the first snapshot hashes every file; the timed ones find nothing changed
  mkdirSync(cpDir);
  const refs = git(mirror, 'for-each-ref', '--format=%(refname)').split('\n').length;
  const mirrorBytes = diskUsage([mirror]);
  log(`\n== ${big}: upstream generated in ${fmtMs(generated)}; mirror ${fmtBytes(mirrorBytes)}, ${countFiles(mirror)} files, ${refs} refs`);
  const times = { [small]: { cp: [], engine: [] }, [big]: { cp: [], engine: [] } };
  for (let i = 0; i < REPS; i++) {
    for (const name of [small, big]) {
      usePaths(name);
      times[name].cp.push(run('cp', ['-al', mirror, join(cpDir, `size-${i}`)]).ms);
      times[name].engine.push(await engineSnapshotMs());
    }
  }
  const of = (name) => ({ cp: median(times[name].cp), inProcess: median(times[name].engine) });
  return { scale, mirrorBytes, refs, small: of(small), big: of(big) };
}

function countFiles(dir) {
  let n = 0;
  const walk = (p) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(p, e.name));
      else n++;
    }
  };
  walk(dir);
  return n;
}

function table(r) {
  const d = r.disk;
  const snapRatio = r.snap / r.cp;
  const engineRatio = r.inProcess / r.cp;
  const budget = 1.2 * d.mirrorDay0 + (d.mirrorNow - d.mirrorDay0);
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  const rows = [
    ['cp -al of the mirror', fmtMs(r.cp), '1.00x', ''],
    ['snapshot, CLI process', fmtMs(r.snap), `${snapRatio.toFixed(1)}x cp -al`, ''],
    ['  Node start-up alone (--version)', fmtMs(r.startup), '', ''],
    ['snapshot, engine in-process', fmtMs(r.inProcess), `${engineRatio.toFixed(1)}x cp -al`, `target <= 2x (issue 11): ${verdict(engineRatio <= 2)}`],
    ['sync (fetch + snapshot), per day', fmtMs(r.sync), '', ''],
    ['tar -czf of the mirror, per day', fmtMs(r.tar), `${(r.tar / r.cp).toFixed(1)}x cp -al`, ''],
    [`disk: mirror + ${d.count} snapshots`, fmtBytes(d.withMirror), `${(d.withMirror / d.mirrorNow).toFixed(2)}x mirror`, `target <= 1.2x day-0 mirror + new objects = ${fmtBytes(budget)}: ${verdict(d.withMirror <= budget)}`],
    [`disk: ${d.count} snapshots beyond the mirror`, fmtBytes(d.withMirror - d.mirrorNow), `${((d.withMirror - d.mirrorNow) / d.mirrorNow).toFixed(2)}x mirror`, `${fmtBytes((d.withMirror - d.mirrorNow) / d.count)} per snapshot, ${d.snapshotFiles} files each`],
    [`disk: ${DAYS} tar.gz archives`, fmtBytes(d.tars), `${(d.tars / d.mirrorNow).toFixed(2)}x mirror`, ''],
    [`status, ${d.count} snapshots, CLI process`, fmtMs(r.status), '', ''],
    [`list, ${d.count} snapshots, CLI process`, fmtMs(r.list), '', ''],
  ];
  for (const x of r.sizes ?? []) {
    const ratio = (m) => m.inProcess / m.cp;
    rows.push(
      [`size section, alternately:`, '', '', ''],
      [`  cp -al, this mirror`, fmtMs(x.small.cp), '', ''],
      [`  snapshot, engine in-process`, fmtMs(x.small.inProcess), `${ratio(x.small).toFixed(1)}x cp -al`, `target <= 2x: ${verdict(ratio(x.small) <= 2)}`],
      [`  cp -al, mirror x${x.scale} (${fmtBytes(x.mirrorBytes)}, ${x.refs} refs)`, fmtMs(x.big.cp), `${(x.big.cp / x.small.cp).toFixed(2)}x this mirror's`, ''],
      [`  snapshot, engine in-process, x${x.scale}`, fmtMs(x.big.inProcess), `${ratio(x.big).toFixed(1)}x cp -al`, `${(x.big.inProcess / x.small.inProcess).toFixed(2)}x this mirror's engine time; target <= 2x cp -al: ${verdict(ratio(x.big) <= 2)}`],
    );
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  log(`\n${r.name} (median of ${REPS}; mirror ${fmtBytes(d.mirrorDay0)} on day 0, ${fmtBytes(d.mirrorNow)} on day ${DAYS})`);
  for (const row of rows) log(`  ${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2].padEnd(widths[2])}  ${row[3]}`.trimEnd());
}

const started = now();
try {
  log(`github-private-backup snapshot benchmark: ${DAYS} days, ${cpus().length} CPU(s), node ${process.version}, ${git(work, '--version')}`);
  log(`work dir ${work}${KEEP ? ' (kept)' : ''}`);

  let t = now();
  generateUpstream(pristine);
  const commitCount = Number(git(pristine, 'rev-list', '--all', '--count'));
  const refCount = git(pristine, 'for-each-ref', '--format=%(refname)').split('\n').length;
  log(`upstream: ${commitCount} commits, ${refCount} refs, ${fmtBytes(diskUsage([pristine]))} packed (generated in ${fmtMs(now() - t)})`);
  const results = [await scenario('engine')];
  if (SCALE > 1) results[0].sizes = [await sizeSection('engine', SCALE)];
  for (const r of results) table(r);
  if (!process.argv.includes('--no-store')) {
    // A fresh copy of the same upstream, synced day by day into a new root with a store.
    usePaths('store');
    mkdirSync(dirname(upstream), { recursive: true });
    run('cp', ['-a', pristine, upstream]);
    const store = await storeSection({
      work: join(work, 'store'),
      days: DAYS,
      reps: REPS,
      env,
      cli: (args, withEnv) => run(process.execPath, [CLI, ...args], { env: withEnv }),
      paths: { upstream, root, mirror, repoUrl },
      upstreamDay,
      nextSecond,
      diskUsage,
      median,
      fmtBytes,
      fmtMs,
      log,
    });
    results.push({ name: 'store', ...store });
  }
  log(`\ntotal ${fmtMs(now() - started)}`);
  if (process.argv.includes('--json')) log(JSON.stringify(results));
} finally {
  removeWorkDir(work);
}
