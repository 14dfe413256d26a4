#!/usr/bin/env node
// node bench/metadata-restore-bench.mjs: what restore --metadata-to costs against the API stand-in on 127.0.0.1
// (docs/BENCHMARKS.md "restore --metadata-to").
//
//  1. A snapshot with N issues and pull requests (default 1,000; every 10th a pull request with a review, a review
//     thread and a reply; every third closed, every 25th locked) restored into an empty target: the requests sent, by
//     endpoint, and writes per record. Its time is mostly the client's pacing of writes (shortened to 1 ms a "second").
//  2. The same restore again, nothing left to create: its time against the floor of any second run (the repository
//     read and its issues listed with fetch, in the same process), alternating, median of --reps; and its requests.
//
// bench/metadata-restore.ts holds the measurement; it is bundled here with esbuild so it can use the stand-ins of
// test/helpers. No network, no token. Options: --records N (default 1000), --reps N (default 3), --json.
import { runBundled } from './bundled.mjs';
import { option } from './harness.mjs';

const options = { records: option('records', 1000), reps: option('reps', 3) };

const report = await runBundled('metadata-restore.ts', 'runRestoreBench', options);

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const { first, second } = report;
  const ms = (n) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`);
  console.log('\n## restore --metadata-to (API stand-in on 127.0.0.1)\n');
  console.log(`${report.records} records, first restore: ${ms(first.ms)}, ${first.requests} requests, ${first.writes} writes (${first.writesPerRecord.toFixed(2)} per issue or pull request)`);
  console.log(`  created: ${Object.entries(first.created).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`  by endpoint: ${Object.entries(first.byEndpoint).map(([e, n]) => `${e} ${n}`).join(', ')}`);
  console.log(`again, nothing to create: ${ms(second.ms)} vs reading the repository and listing its issues with fetch ${ms(second.referenceMs)} = ${second.ratio.toFixed(2)}x (median of ${options.reps})`);
  console.log(`  ${second.requests} requests, ${second.writes} writes, ${second.alreadyDone} steps already done; by endpoint: ${Object.entries(second.byEndpoint).map(([e, n]) => `${e} ${n}`).join(', ')}`);
}
