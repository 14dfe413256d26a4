// Loaded with `node --import` by bench/scale-bench.mjs: at exit, append this process's peak RSS (VmHWM, KiB) to
// the file BENCH_RSS_FILE names. Linux only (/proc).
import { appendFileSync, readFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.BENCH_RSS_FILE;
  const line = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (file && line) appendFileSync(file, `${line[1]}\n`);
});
