#!/usr/bin/env node
// Run a bundled action on this machine the way the runner does, without Docker or `act`:
//
//   node actions/backup/local-run.mjs action=sync repositories=owner/name backup-root=/tmp/backup
//   node actions/backup/local-run.mjs --action-dir actions/report-failure status=failure failed-action=sync
//
// Inputs become INPUT_<NAME> variables (uppercased, spaces to _, hyphens kept), action.yml defaults fill the rest,
// `${{ github.token }}` comes from GITHUB_TOKEN. GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are temporary files printed
// at the end. Without ACTIONS_RUNTIME_TOKEN there is no artifact service: the log upload is skipped with a warning.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const args = process.argv.slice(2);
let actionDir = dirname(fileURLToPath(import.meta.url));
const inputs = {};
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--action-dir') actionDir = resolve(args[++i] ?? '');
  else if (arg === '-h' || arg === '--help') {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 10).join('\n'));
    process.exit(0);
  } else if (arg.includes('=')) inputs[arg.slice(0, arg.indexOf('='))] = arg.slice(arg.indexOf('=') + 1).replace(/\\n/g, '\n');
  else {
    console.error(`expected name=value, got ${JSON.stringify(arg)}`);
    process.exit(2);
  }
}

const meta = parse(readFileSync(join(actionDir, 'action.yml'), 'utf8'));
const declared = meta.inputs ?? {};
for (const name of Object.keys(inputs)) {
  if (!(name in declared)) {
    console.error(`unknown input ${name}; ${join(actionDir, 'action.yml')} declares: ${Object.keys(declared).join(', ')}`);
    process.exit(2);
  }
}
const github = {
  token: process.env.GITHUB_TOKEN ?? '',
  workflow: process.env.GITHUB_WORKFLOW ?? 'local run',
  repository: process.env.GITHUB_REPOSITORY ?? '',
};
const temp = mkdtempSync(join(tmpdir(), 'gpb-local-'));
const env = { ...process.env, GITHUB_OUTPUT: join(temp, 'output'), GITHUB_STEP_SUMMARY: join(temp, 'summary.md') };
writeFileSync(env.GITHUB_OUTPUT, '');
writeFileSync(env.GITHUB_STEP_SUMMARY, '');
for (const [name, spec] of Object.entries(declared)) {
  const value = (inputs[name] ?? spec.default ?? '').replace(/\$\{\{\s*github\.(\w+)\s*\}\}/g, (_m, key) => github[key] ?? '');
  env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
}

const child = spawnSync(process.execPath, [join(actionDir, meta.runs.main)], { env, stdio: 'inherit' });
console.log(`\n--- outputs (${env.GITHUB_OUTPUT}) ---\n${readFileSync(env.GITHUB_OUTPUT, 'utf8')}`);
console.log(`--- job summary (${env.GITHUB_STEP_SUMMARY}) ---\n${readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8')}`);
process.exit(child.status ?? 1);
