#!/usr/bin/env node
// npm run bench, the GitHub metadata section: what a capture costs against the API stand-in on 127.0.0.1.
//
//  1. A repository with a little of every kind, captured twice: the requests the second capture (nothing new) sent,
//     by kind and by endpoint, and how many were answered 304. Target: one conditional request per kind. Once with
//     a token whose user is an admin of the repository (it reads branch protection), once with one who is not;
//     the time of that capture against the same requests (ETags included) sent with fetch; then the same day
//     through `sync`, where the identity lookup's answer serves the settings too, and through a
//     `sync` with settings not captured, where the lookup asks with an ETag of its own.
//  2. A repository with 5,000 issues (every 5th with a comment): a first capture, against the reference of a plain
//     paginated download of the same lists with fetch (Link rel="next", per_page=100) in the same process;
//     alternating, median of --reps. Then a capture with nothing new. Then the cost of one request through the
//     shared client against fetch of the same page, as a 200 and as a 304, wall and CPU time.
//
// bench/metadata-capture.ts holds the measurement; it is bundled here with esbuild so it can use the stand-in of
// test/helpers. No network, no token. Options: --issues N (default 5000), --reps N (default 3), --json.
import { runBundled } from './bundled.mjs';
import { option } from './harness.mjs';

const options = { issues: option('issues', 5000), commentEvery: 5, reps: option('reps', 3) };

const report = await runBundled('metadata-capture.ts', 'runMetadataBench', options);

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const { quiet, quietNoAdmin, quietSync, quietSyncNoSettings, big } = report;
  const ms = (n) => `${Math.round(n)} ms`;
  console.log('\n## GitHub metadata capture (API stand-in on 127.0.0.1)\n');
  for (const [who, day] of [['an admin token', quiet], ['a token that cannot read branch protection', quietNoAdmin]]) {
    const endpoints = Object.values(day.endpoints).reduce((n, list) => n + list.length, 0);
    console.log(`A day with nothing new, ${who}: ${day.kinds} kinds, ${endpoints} endpoints, ${day.requests} requests, ${day.notModified} answered 304; commit made: ${day.committed}`);
    console.log(`  by kind: ${Object.entries(day.byKind).map(([k, n]) => `${k} ${n} (${day.endpoints[k].join(' ')})`).join(', ')}`);
    if (day.timing) console.log(`  the capture: ${ms(day.timing.captureMs)} vs the same ${day.requests} requests with fetch ${ms(day.timing.fetchMs)} = ${day.timing.ratio.toFixed(2)}x (median of ${Math.max(5, options.reps)})`);
  }
  const notAnswered304 = (day) => (day.answered.length ? `; not: ${day.answered.join(', ')}` : '');
  console.log(`The same day through sync, an admin token: ${quietSync.requests} requests, ${quietSync.notModified} answered 304${notAnswered304(quietSync)} (the identity lookup's answer serves the settings)`);
  console.log(`  with settings not captured: ${quietSyncNoSettings.requests} requests, ${quietSyncNoSettings.notModified} answered 304${notAnswered304(quietSyncNoSettings)} (the identity lookup asks with its own ETag)`);
  console.log(`${big.issues} issues, ${big.comments} comments, first capture: ${ms(big.captureMs)} vs plain paginated download ${ms(big.referenceMs)} = ${big.ratio.toFixed(2)}x (median of ${options.reps})`);
  console.log(`  captured ${big.result.issues} issues in one commit of ${big.result.changedDocuments} documents`);
  console.log(`  the next capture, nothing new: ${ms(big.quietCaptureMs)}, ${big.quietRequests} requests`);
  for (const [what, one] of [['a page of 100 issues (200)', big.perRequest.page], ['the same page answered 304', big.perRequest.notModified]]) {
    console.log(`  per request, ${what}: the shared client (Octokit + throttling + retry) ${one.clientMs.toFixed(2)} ms, fetch ${one.fetchMs.toFixed(2)} ms = ${one.ratio.toFixed(2)}x; CPU ${one.clientCpuMs.toFixed(2)} vs ${one.fetchCpuMs.toFixed(2)} ms`);
  }
}
