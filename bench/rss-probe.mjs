// Loaded with `node --import` by bench/scale-bench.mjs: at exit, append this process's peak RSS (VmHWM, KiB) and the
// CPU milliseconds it spent itself (its git children not included) to the file BENCH_RSS_FILE names. Linux only
// (/proc).
import { appendFileSync, readFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.BENCH_RSS_FILE;
  const line = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  const { userCPUTime, systemCPUTime } = process.resourceUsage();
  if (file && line) appendFileSync(file, `${line[1]} ${Math.round((userCPUTime + systemCPUTime) / 1000)}\n`);
});
