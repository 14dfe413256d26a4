// The only place that reads the backup action's inputs. Everything else works from BackupActionSettings.
import * as core from '@actions/core';
import { resolveSettings, type BackupSettings } from '../../../src/config.ts';
import { UsageError } from '../../../src/errors.ts';

export const BACKUP_ACTIONS = ['init', 'sync', 'snapshot', 'status', 'verify', 'prune', 'restore'] as const;
export type BackupAction = (typeof BACKUP_ACTIONS)[number];

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
}

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
  if (env.GITHUB_TOKEN) core.setSecret(env.GITHUB_TOKEN);

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

  const uploadRaw = (core.getInput('upload-logs') || 'true').toLowerCase();
  if (!['true', 'false'].includes(uploadRaw)) throw new UsageError(`input "upload-logs" must be true or false, got ${JSON.stringify(uploadRaw)}`);

  const settings = resolveSettings(
    {
      root: core.getInput('backup-root') || undefined,
      configPath: core.getInput('config') || undefined,
      repositories,
      token: token || undefined,
      retentionDays: positiveInt('retention-days', core.getInput('retention-days')),
    },
    env,
  );
  // Every other command can work on the repositories already under the root.
  if (settings.repositories.length === 0 && action === 'init') {
    throw new UsageError('no repositories to init: set the "repositories" input or a "config" file that lists some');
  }
  return {
    action: action as BackupAction,
    settings,
    snapshot,
    uploadLogs: uploadRaw === 'true',
    runId: env.GITHUB_RUN_ID || 'local',
    runAttempt: env.GITHUB_RUN_ATTEMPT || '1',
  };
}
