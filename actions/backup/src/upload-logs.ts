// Uploads the run's log files as an artifact. Never throws: a failed upload is a warning, because the backup's own
// result (success or failure) is what the step must report.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { DefaultArtifactClient } from '@actions/artifact';
import { logFileName } from '../../../src/naming.ts';

export const LOG_RETENTION_DAYS = 30;

export function artifactName(runId: string, runAttempt: string): string {
  return `backup-logs-${runId}-${runAttempt}`;
}

/** The daily log files the run may have written to: one per UTC day from start to finish. */
export function runLogFiles(logsDir: string, startedAt: Date, finishedAt: Date): string[] {
  if (!existsSync(logsDir)) return [];
  const wanted = new Set<string>();
  const day = new Date(Date.UTC(startedAt.getUTCFullYear(), startedAt.getUTCMonth(), startedAt.getUTCDate()));
  for (let d = day; d.getTime() <= finishedAt.getTime(); d = new Date(d.getTime() + 86_400_000)) wanted.add(logFileName(d));
  return readdirSync(logsDir)
    .filter((name) => wanted.has(name))
    .sort()
    .map((name) => join(logsDir, name));
}

export interface UploadOutcome {
  uploaded: boolean;
  name: string;
  files: string[];
  reason?: string;
}

export async function uploadLogs(options: { logsDir: string; files: string[]; runId: string; runAttempt: string }): Promise<UploadOutcome> {
  const name = artifactName(options.runId, options.runAttempt);
  if (options.files.length === 0) {
    core.warning(`no log files to upload under ${options.logsDir}`);
    return { uploaded: false, name, files: [], reason: 'no log files' };
  }
  if (!process.env.ACTIONS_RUNTIME_TOKEN || !process.env.ACTIONS_RESULTS_URL) {
    // Outside a runner (local runs, `act` without --artifact-server-path) there is no artifact service.
    core.warning('artifact service not available (ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL unset): logs not uploaded');
    return { uploaded: false, name, files: options.files, reason: 'no artifact service' };
  }
  try {
    const client = new DefaultArtifactClient();
    const { id, size } = await client.uploadArtifact(name, options.files, options.logsDir, { retentionDays: LOG_RETENTION_DAYS });
    core.info(`uploaded ${options.files.length} log file(s) as artifact ${name} (id ${id}, ${size ?? 0} bytes)`);
    return { uploaded: true, name, files: options.files };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    core.warning(`could not upload the logs as artifact ${name}: ${reason}`);
    return { uploaded: false, name, files: options.files, reason };
  }
}
