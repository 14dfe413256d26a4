// The only place that reads the backup action's inputs. Everything else works from BackupActionSettings.
import * as core from '@actions/core';
import { resolveSettings, type BackupSettings } from '../../../src/config.ts';
import { UsageError } from '../../../src/errors.ts';
import { parseGitHubApp } from '../../../src/github/app-settings.ts';
import { parseShard, type Shard } from '../../../src/shard.ts';
import { ACTION_OPERATIONS, type ActionOperation } from '../../../src/operations/index.ts';

/** The operations this action runs (src/operations): action.yml and the daily workflow's choices are tested against it. */
export const BACKUP_ACTIONS: readonly ActionOperation[] = ACTION_OPERATIONS;
export type BackupAction = ActionOperation;

/** The contract between reading inputs and doing the work. */
export interface BackupActionSettings {
  /** The engine command to run. */
  action: BackupAction;
  /** Resolved engine settings: inputs first, then environment (BACKUP_ROOT, GITHUB_TOKEN, ...), config file, defaults. */
  settings: BackupSettings;
  /** restore / verify: "latest", a snapshot name, or (verify only) "all". */
  snapshot: string;
  /** Upload this run's log files as an artifact, whatever the outcome. */
  uploadLogs: boolean;
  /** Artifact naming: backup-logs-<runId>-<runAttempt>. */
  runId: string;
  runAttempt: string;
  /** Keep the working root warm in the Actions cache between runs (root-cache.ts). */
  rootCache: { enabled: boolean; keyPrefix: string };
}

/** The runner throws its disk away after the job (docs/GITHUB_ACTIONS.md "Which runner"). */
export function isGitHubHosted(env: NodeJS.ProcessEnv): boolean {
  return env.RUNNER_ENVIRONMENT === 'github-hosted';
}

function booleanInput(name: string, fallback: string): boolean {
  const raw = (core.getInput(name) || fallback).toLowerCase();
  if (!['true', 'false'].includes(raw)) throw new UsageError(`input "${name}" must be true or false, got ${JSON.stringify(raw)}`);
  return raw === 'true';
}

/** `cache: auto` (the default) caches on GitHub-hosted runners only: a self-hosted root is already persistent. */
function cacheEnabled(env: NodeJS.ProcessEnv): boolean {
  const raw = (core.getInput('cache') || 'auto').toLowerCase();
  if (raw === 'auto') return isGitHubHosted(env);
  if (!['true', 'false'].includes(raw)) throw new UsageError(`input "cache" must be auto, true or false, got ${JSON.stringify(raw)}`);
  return raw === 'true';
}

const CACHE_KEY_PREFIX = /^[A-Za-z0-9._-]{1,200}$/;

function positiveInt(name: string, raw: string): number | undefined {
  if (raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`input "${name}" must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}

export function getInputs(env: NodeJS.ProcessEnv = process.env): BackupActionSettings {
  // Mask first: nothing below may print the token before the runner knows to hide it.
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  // A GitHub App's key: every line masked, since the runner masks line by line.
  const appKey = core.getInput('app-private-key');
  if (appKey) core.setSecret(appKey);
  for (const line of appKey.split(/\r?\n/)) if (line.trim().length >= 16 && !line.startsWith('-----')) core.setSecret(line.trim());
  if (env.GITHUB_TOKEN) core.setSecret(env.GITHUB_TOKEN);
  // Store credentials come from the AWS environment (docs/GITHUB_ACTIONS.md): hide them from the log as well.
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const) if (env[name]) core.setSecret(env[name]);

  const action = (core.getInput('action') || 'sync').toLowerCase();
  if (!(BACKUP_ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`input "action" must be one of ${BACKUP_ACTIONS.join(', ')}; got ${JSON.stringify(action)}`);
  }
  const repositories = core
    .getMultilineInput('repositories')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const snapshot = core.getInput('snapshot') || 'latest';
  if (snapshot === 'all' && action !== 'verify') throw new UsageError('input "snapshot: all" is only valid with "action: verify"');

  const uploadLogs = booleanInput('upload-logs', 'true');
  const ephemeral = booleanInput('ephemeral', 'false');
  const keyPrefix = core.getInput('cache-key') || 'github-private-backup-root';
  if (!CACHE_KEY_PREFIX.test(keyPrefix)) throw new UsageError(`input "cache-key" must be 1-200 letters, digits, '.', '_' or '-', got ${JSON.stringify(keyPrefix)}`);

  const shardInput = core.getInput('shard').trim();
  const githubApp = parseGitHubApp(
    { appId: core.getInput('app-id'), privateKey: appKey, installationId: core.getInput('app-installation-id') },
    { appId: 'input "app-id"', privateKey: 'input "app-private-key"', privateKeyFile: 'GITHUB_APP_PRIVATE_KEY_FILE', installationId: 'input "app-installation-id"' },
  );
  const settings = resolveSettings(
    {
      root: core.getInput('backup-root') || undefined,
      configPath: core.getInput('config') || undefined,
      repositories,
      token: token || undefined,
      ...(githubApp ? { githubApp } : {}),
      ...(shardInput ? { shard: parseShardInput(shardInput) } : {}),
      retentionDays: positiveInt('retention-days', core.getInput('retention-days')),
    },
    env,
  );
  // Every other command can work on the repositories already under the root.
  if (settings.repositories.length === 0 && action === 'init') {
    throw new UsageError('no repositories to init: set the "repositories" input or a "config" file that lists some');
  }
  if (isGitHubHosted(env) && !settings.store && !ephemeral) {
    throw new UsageError(
      'this is a GitHub-hosted runner, whose disk is thrown away when the job ends, and no store is configured: the backup ' +
        'would keep nothing (the Actions cache is evicted after 7 days unused and is no backup). Add a "store:" section to ' +
        'the config (docs/GITHUB_ACTIONS.md), or set "ephemeral: true" to run anyway and keep nothing',
    );
  }
  return {
    action: action as BackupAction,
    settings,
    snapshot,
    uploadLogs,
    runId: env.GITHUB_RUN_ID || 'local',
    runAttempt: env.GITHUB_RUN_ATTEMPT || '1',
    rootCache: { enabled: cacheEnabled(env), keyPrefix },
  };
}

/** The CLI's --shard, worded for the input. */
function parseShardInput(raw: string): Shard {
  try {
    return parseShard(raw);
  } catch {
    throw new UsageError(`input "shard" must be K/N with 1 <= K <= N <= 9999 (a matrix value such as 2/4), got ${JSON.stringify(raw)}`);
  }
}
