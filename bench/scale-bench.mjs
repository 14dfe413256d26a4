#!/usr/bin/env node
// npm run bench, scale section: N small generated repositories, concurrency 4 (docs/BENCHMARKS.md "Scale").
//
//  1. Generate N small upstreams under upstream/bench/rNNNN.git: 5 shared commits and 40 refs, and one commit of
//     each repository's own on top (so their packs differ, as real repositories' do).
//  2. Time `init` and a no-op `sync` of all N through the CLI against `git clone --mirror` and `git fetch --prune`
//     of the same upstreams, run from this process with the same concurrency (4 at a time).
//  3. Give every repository 30 snapshots (one real one, then hardlinked copies under earlier names, then one more
//     real `snapshot` so the recorded state is current) and time `status` and `health`.
//  4. Peak RSS of the CLI process (VmHWM, via bench/rss-probe.mjs) and git processes per repository (a `git`
//     wrapper first on PATH that counts its calls; a separate, untimed pass over a few repositories).
//  5. Beside each wall time, the CPU time it took (the children's, from /proc/self/stat; for the CLI also what the
//     engine's own process spent): on a shared machine the wall clock counts other people's load too.
//
// Options: --repos N (or BENCH_REPOS; default 200), --shards N (or BENCH_SHARDS; default 1), --rounds N (or
// BENCH_ROUNDS; default 2: init and no-op sync against their references, alternately, fastest counts),
// BENCH_SNAPSHOTS (default 30), --keep, --json.
//
// --shards N (e.g. --repos 10000 --shards 4) runs the sharded day instead: N shards one after another,
// each `sync --shard K/N` on a fresh root (as each matrix job gets a fresh runner) pushing to one file:// store,
// then prints the total, each shard's time and repositories, the spread, and what the store holds.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CLI, fmtMs, log, makeWorkDir, now, removeWorkDir, requireBuiltCli } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PROBE = join(here, 'rss-probe.mjs');
/** `--name N` on the command line, else the environment variable, else the default. */
function option(name, variable, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  const value = at > 0 ? process.argv[at + 1] : process.env[variable];
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} / ${variable}: expected a whole number >= 1, got ${JSON.stringify(value)}`);
  return number;
}
const REPOS = option('repos', 'BENCH_REPOS', 200);
const SHARDS = option('shards', 'BENCH_SHARDS', 1);
const ROUNDS = option('rounds', 'BENCH_ROUNDS', 2);
const SNAPSHOTS = Number(process.env.BENCH_SNAPSHOTS ?? 30);
const CONCURRENCY = 4;
const COUNTED = Math.min(REPOS, 20);
requireBuiltCli();

const { work, env } = makeWorkDir('backup-scale-');

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr || result.stdout}`);
  return result.stdout;
}
/** `options.input`: bytes for the child's stdin (then give `stdio` a 'pipe' for it). */
function runAsync(cmd, args, { input, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`))));
    if (input !== undefined) child.stdin.end(input);
  });
}
// CPU time of this process's finished children (and what they waited for): /proc/self/stat fields 16 and 17, in
// clock ticks. On a shared machine the wall clock counts other people's load too; the CPU a run spent does not, so
// each timing is also given as CPU seconds (git's included) beside the same for the reference.
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
function childCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** Run `job` for every item, `limit` at a time; the elapsed and the children's CPU milliseconds. */
async function pool(items, limit, job) {
  const started = now();
  const cpuBefore = childCpuMs();
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await job(items[next++]);
  }));
  return { ms: now() - started, cpuMs: childCpuMs() - cpuBefore };
}

const ids = Array.from({ length: REPOS }, (_, i) => `r${String(i).padStart(4, '0')}`);
const upstreamOf = (id) => join(work, 'upstream', 'bench', `${id}.git`);

/**
 * One template of 5 commits and 40 refs, copied N times, then one commit of its own on top of each copy's main
 * (a file naming the repository): every upstream's history differs, so their packs do and the store cannot
 * deduplicate them. The branches that shared main's tip move with it, so HEAD's commit stays on seven branches
 * and init still asks upstream which one HEAD is, as before the copies differed.
 */
async function generate() {
  const template = join(work, 'template.git');
  run('git', ['init', '--quiet', '--bare', '--initial-branch=main', template]);
  let stream = '';
  let time = 1_700_000_000;
  for (let c = 1; c <= 5; c++) {
    const body = `line ${c}\n`.repeat(20 * c);
    stream += `commit refs/heads/main\nmark :${c}\ncommitter Bench <bench@example.com> ${(time += 60)} +0000\ndata 9\nchange ${c}\n`;
    if (c > 1) stream += `from :${c - 1}\n`;
    stream += `M 100644 inline file-${c}.txt\ndata ${body.length}\n${body}\n`;
  }
  for (let b = 0; b < 30; b++) stream += `reset refs/heads/topic-${b}\nfrom :${1 + (b % 5)}\n\n`;
  for (let t = 0; t < 9; t++) stream += `reset refs/tags/v${t}\nfrom :${1 + (t % 5)}\n\n`;
  run('git', ['fast-import', '--quiet'], { cwd: template, input: stream });
  run('git', ['repack', '-adq'], { cwd: template });
  const tip = run('git', ['rev-parse', 'refs/heads/main'], { cwd: template }).trim();
  const atTip = run('git', ['for-each-ref', '--format=%(refname)', '--points-at', tip, 'refs/heads/'], { cwd: template }).split('\n').filter(Boolean);
  await pool(ids, CONCURRENCY, async (id) => {
    cpSync(template, upstreamOf(id), { recursive: true });
    const body = `${id}\n`;
    let own = `commit refs/heads/main\nmark :1\ncommitter Bench <bench@example.com> ${time + 60} +0000\ndata ${id.length + 1}\n${id}\nfrom ${tip}\n`;
    own += `M 100644 inline own.txt\ndata ${body.length}\n${body}\n`;
    for (const ref of atTip.filter((r) => r !== 'refs/heads/main')) own += `reset ${ref}\nfrom :1\n\n`;
    await runAsync('git', ['fast-import', '--quiet'], { cwd: upstreamOf(id), stdio: ['pipe', 'ignore', 'pipe'], input: own });
  });
  return Number(run('git', ['for-each-ref', '--format=x'], { cwd: template }).split('\n').filter(Boolean).length);
}

function writeConfig(root, which, extra = {}) {
  const file = join(work, `config-${which.length}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ root, repositories: which.map((id) => ({ repo: `bench/${id}`, url: pathToFileURL(upstreamOf(id)).href })), ...extra }));
  return file;
}

/** One day of a sharded organisation: every shard synced in turn on its own fresh root, all pushing to one store. */
function shardedDay() {
  const store = join(work, 'store');
  mkdirSync(store);
  const shards = [];
  for (let k = 1; k <= SHARDS; k++) {
    const root = join(work, `shard-${k}`);
    const config = writeConfig(root, ids, { store: { url: pathToFileURL(store).href } });
    const { ms, rssKiB } = cli(config, ['sync', '--shard', `${k}/${SHARDS}`]);
    const repos = existsSync(join(root, 'immutable', 'bench')) ? readdirSync(join(root, 'immutable', 'bench')).length : 0;
    shards.push({ shard: k, ms, repos, rssKiB });
    log(`  shard ${k}/${SHARDS}: ${String(repos).padStart(5)} repositories in ${fmtMs(ms).padStart(9)} (${(ms / Math.max(repos, 1)).toFixed(1)} ms each), peak RSS ${(rssKiB / 1024).toFixed(0)} MB`);
    // A matrix job's runner is gone after the job: so is its root (the store keeps what it pushed).
    spawnSync('chmod', ['-R', 'u+w', root]);
    rmSync(root, { recursive: true, force: true });
  }
  const total = shards.reduce((sum, s) => sum + s.ms, 0);
  const times = shards.map((s) => s.ms);
  const counts = shards.map((s) => s.repos);
  const stored = readdirSync(join(store), { recursive: true }).length;
  const storedBytes = Number(run('du', ['-sb', store]).split('\t')[0]);
  log(`\n  total ${fmtMs(total)} for ${counts.reduce((a, b) => a + b, 0)} repositories; shards took ${fmtMs(Math.min(...times))} to ${fmtMs(Math.max(...times))} (slowest/fastest ${(Math.max(...times) / Math.min(...times)).toFixed(2)}x), held ${Math.min(...counts)} to ${Math.max(...counts)} repositories; the store holds ${stored} entries, ${(storedBytes / 2 ** 20).toFixed(1)} MiB`);
  return { shards, totalMs: total, storeEntries: stored, storeBytes: storedBytes };
}

/** The CLI as a child process; its peak RSS (KiB) from the probe. */
function cli(config, args, extraEnv = {}) {
  const rssFile = join(work, `rss-${Math.random().toString(36).slice(2)}`);
  const started = now();
  const cpuBefore = childCpuMs();
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(PROBE).href, CLI, ...args, '--config', config, '--concurrency', String(CONCURRENCY)], {
    env: { ...env, ...extraEnv, BENCH_RSS_FILE: rssFile },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const ms = now() - started;
  const cpuMs = childCpuMs() - cpuBefore;
  if (result.status !== 0) throw new Error(`backup-manager ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(0, 2000)}`);
  const [rssKiB, ownCpuMs] = readFileSync(rssFile, 'utf8').trim().split(' ').map(Number);
  return { ms, cpuMs, ownCpuMs, rssKiB };
}

/** A `git` first on PATH that appends one line per call to `countFile`, then runs the real git. */
function gitCounter() {
  const dir = join(work, 'counting-bin');
  mkdirSync(dir);
  const realGit = run('sh', ['-c', 'command -v git']).trim();
  const countFile = join(work, 'git-calls');
  // Records the subcommand: the first argument that is neither an option nor the value of -c / -C.
  const script = [
    '#!/bin/sh',
    'sub=; skip=',
    'for a in "$@"; do',
    '  if [ -n "$skip" ]; then skip=; continue; fi',
    '  case "$a" in -c|-C) skip=1 ;; -*) ;; *) sub=$a; break ;; esac',
    'done',
    `echo "\${sub:-?}" >> '${countFile}'`,
    `exec '${realGit}' "$@"`,
  ];
  writeFileSync(join(dir, 'git'), `${script.join('\n')}\n`);
  chmodSync(join(dir, 'git'), 0o755);
  return {
    env: { PATH: `${dir}:${env.PATH}` },
    take() {
      const calls = existsSync(countFile) ? readFileSync(countFile, 'utf8').split('\n').filter(Boolean) : [];
      rmSync(countFile, { force: true });
      const byCommand = {};
      for (const c of calls) byCommand[c] = (byCommand[c] ?? 0) + 1;
      return { total: calls.length, byCommand };
    },
  };
}

/** Hardlinked copies of each repository's one real snapshot under earlier names, a day apart (status's load). */
function fanOutSnapshots(root) {
  for (const id of ids) {
    const parent = join(root, 'snapshots', 'bench', id);
    const [real] = readdirSync(parent).filter((n) => n.startsWith('snapshot-'));
    const at = Date.UTC(Number(real.slice(9, 13)), Number(real.slice(13, 15)) - 1, Number(real.slice(15, 17)), Number(real.slice(18, 20)), Number(real.slice(20, 22)), Number(real.slice(22, 24)));
    for (let k = 1; k < SNAPSHOTS - 1; k++) {
      const d = new Date(at - k * 86_400_000 - 1000);
      const p = (n) => String(n).padStart(2, '0');
      const name = `snapshot-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
      run('cp', ['-al', join(parent, real), join(parent, name)]);
    }
  }
}

/** init, no-op sync, snapshot, status and health of every repository, against plain git; git processes counted. */
async function standardSections() {
  // References: plain git, from this process, 4 at a time. The machine is shared, so each reference and the CLI's
  // counterpart run alternately ROUNDS times (init and clone on fresh directories each round) and the fastest of
  // each counts.
  const cloneRuns = [];
  const inits = [];
  const root = join(work, 'root');
  const refDir = join(work, 'reference');
  for (let r = ROUNDS - 1; r >= 0; r--) {
    const [refs, rootOfRound] = r ? [join(work, `reference-${r}`), join(work, `root-${r}`)] : [refDir, root];
    cloneRuns.push(await pool(ids, CONCURRENCY, (id) => runAsync('git', ['clone', '--quiet', '--mirror', pathToFileURL(upstreamOf(id)).href, join(refs, `${id}.git`)])));
    inits.push(cli(writeConfig(rootOfRound, ids), ['init']));
    if (r) for (const dir of [refs, rootOfRound]) rmSync(dir, { recursive: true, force: true });
  }
  const config = writeConfig(root, ids);
  const sync = cli(config, ['sync', '--no-prune']);
  const fetchRuns = [];
  const noopSyncs = [];
  for (let r = 0; r < ROUNDS; r++) {
    fetchRuns.push(await pool(ids, CONCURRENCY, (id) => runAsync('git', ['fetch', '--quiet', '--prune'], { cwd: join(refDir, `${id}.git`) })));
    noopSyncs.push(cli(config, ['sync']));
  }
  const fastest = (runs) => [...runs].sort((a, b) => a.ms - b.ms)[0];
  const [clone, fetch] = [fastest(cloneRuns), fastest(fetchRuns)];
  const [cloneMs, fetchMs] = [clone.ms, fetch.ms];
  const [init, noopSync] = [fastest(inits), fastest(noopSyncs)];
  // CPU: the least each spent in any round (the CPU a run needs varies far less with the machine's load).
  const leastCpu = (runs) => Math.min(...runs.map((r) => r.cpuMs));
  const cpu = { clone: leastCpu(cloneRuns), init: leastCpu(inits), fetch: leastCpu(fetchRuns), noopSync: leastCpu(noopSyncs) };
  // Of the CLI's CPU, what the engine's own process spent (start-up included); the rest is git's.
  const own = { init: Math.min(...inits.map((r) => r.ownCpuMs)), noopSync: Math.min(...noopSyncs.map((r) => r.ownCpuMs)) };
  // sync took the first snapshot of each repository; fan out to SNAPSHOTS, and record the state with one more.
  fanOutSnapshots(root);
  const snap = cli(config, ['snapshot']);
  const status = [cli(config, ['status']), cli(config, ['status'])].sort((a, b) => a.ms - b.ms)[0];
  const health = [cli(config, ['health']), cli(config, ['health'])].sort((a, b) => a.ms - b.ms)[0];
  const snapshotCount = readdirSync(join(root, 'snapshots', 'bench', ids[0])).filter((n) => n.startsWith('snapshot-')).length;
  const startupMs = (() => {
    const t = now();
    spawnSync(process.execPath, [CLI, '--version'], { env });
    return now() - t;
  })();

  // git processes per repository, on a separate root (the wrapper's own cost stays out of the timings).
  const counter = gitCounter();
  const countedConfig = writeConfig(join(work, 'counted-root'), ids.slice(0, COUNTED));
  cli(countedConfig, ['init'], counter.env);
  const initCalls = counter.take();
  cli(countedConfig, ['sync', '--no-prune'], counter.env);
  counter.take();
  cli(countedConfig, ['sync', '--no-prune'], counter.env);
  const syncCalls = counter.take();

  Object.assign(results, {
    cloneMs, fetchMs, startupMs, snapshotCount, rounds: ROUNDS, cloneRunsMs: cloneRuns.map((r) => r.ms), initRunsMs: inits.map((i) => i.ms), fetchRunsMs: fetchRuns.map((r) => r.ms), noopSyncRunsMs: noopSyncs.map((i) => i.ms), cpuMs: cpu, ownCpuMs: own,
    initMs: init.ms, noopSyncMs: noopSync.ms, firstSyncMs: sync.ms, snapshotMs: snap.ms, statusMs: status.ms, healthMs: health.ms,
    rssKiB: { init: init.rssKiB, firstSync: sync.rssKiB, noopSync: noopSync.rssKiB, snapshot: snap.rssKiB, status: status.rssKiB, health: health.rssKiB },
    gitPerRepo: { init: initCalls.total / COUNTED, noopSync: syncCalls.total / COUNTED, initByCommand: initCalls.byCommand, noopSyncByCommand: syncCalls.byCommand },
  });
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  const per = (calls) => Object.entries(calls.byCommand).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${(n / COUNTED).toFixed(1)}`).join(', ');
  const mb = (kib) => `${(kib / 1024).toFixed(0)} MB`;
  const rows = [
    ['git clone --mirror, 4 at a time', fmtMs(cloneMs), '1.00x', `CPU ${fmtMs(cpu.clone)}`],
    ['init (CLI)', fmtMs(init.ms), `${(init.ms / cloneMs).toFixed(1)}x clone`, `target <= 1.5x: ${verdict(init.ms / cloneMs <= 1.5)}; CPU ${fmtMs(cpu.init)} = ${(cpu.init / cpu.clone).toFixed(2)}x (engine ${fmtMs(own.init)}); peak RSS ${mb(init.rssKiB)}`],
    ['git fetch --prune, 4 at a time', fmtMs(fetchMs), '1.00x', `CPU ${fmtMs(cpu.fetch)}`],
    ['sync after init (fetch, first snapshot)', fmtMs(sync.ms), '', `peak RSS ${mb(sync.rssKiB)} (<= 300 MB is the target)`],
    ['sync, nothing new (CLI)', fmtMs(noopSync.ms), `${(noopSync.ms / fetchMs).toFixed(1)}x fetch`, `target <= 1.5x: ${verdict(noopSync.ms / fetchMs <= 1.5)}; CPU ${fmtMs(cpu.noopSync)} = ${(cpu.noopSync / cpu.fetch).toFixed(2)}x (engine ${fmtMs(own.noopSync)}); peak RSS ${mb(noopSync.rssKiB)}`],
    [`snapshot, ${REPOS} repositories`, fmtMs(snap.ms), '', `peak RSS ${mb(snap.rssKiB)}`],
    [`status, ${REPOS} x ${snapshotCount} snapshots`, fmtMs(status.ms), '', `peak RSS ${mb(status.rssKiB)} (1,000 x 30 <= 1 s is the target)`],
    [`health, ${REPOS} x ${snapshotCount} snapshots`, fmtMs(health.ms), '', `peak RSS ${mb(health.rssKiB)}`],
    ['Node start-up alone (--version)', fmtMs(startupMs), '', ''],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  log('');
  for (const row of rows) log(`  ${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2].padEnd(widths[2])}  ${row[3]}`.trimEnd());
  log(`\n  git processes per repository (${COUNTED} repositories counted):`);
  log(`    init: ${(initCalls.total / COUNTED).toFixed(1)} (${per(initCalls)})`);
  log(`    sync, nothing new: ${(syncCalls.total / COUNTED).toFixed(1)} (${per(syncCalls)})`);
}

const started = now();
const results = { repos: REPOS, snapshots: SNAPSHOTS, concurrency: CONCURRENCY };
try {
  log(`github-private-backup scale benchmark: ${REPOS} repositories, concurrency ${CONCURRENCY}, ${cpus().length} CPU(s), node ${process.version}, ${run('git', ['--version']).trim()}`);
  const refs = await generate();
  log(`upstreams: ${REPOS} repositories, each 5 shared commits and one of its own, ${refs} refs (generated in ${fmtMs(now() - started)})`);
  if (SHARDS > 1) {
    log(`\nsharded day: ${SHARDS} shards, one after another, one file:// store`);
    Object.assign(results, { shards: SHARDS, ...shardedDay() });
  } else await standardSections();
  log(`\ntotal ${fmtMs(now() - started)}`);
  if (process.argv.includes('--json')) log(JSON.stringify(results));
} finally {
  removeWorkDir(work);
}
