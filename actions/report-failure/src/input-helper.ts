// The only place that reads the action's inputs.
import * as core from '@actions/core';

export interface ReportSettings {
  /** Secret: masked as soon as it is read. */
  token: string;
  status: 'failure' | 'success';
  workflow: string;
  owner: string;
  repo: string;
  failedAction: string;
  failedRepositories: string[];
  /** Files or directories whose (newest) log is quoted. */
  logFiles: string[];
  logLines: number;
  /** Labels for a new issue; backup-failure comes first. */
  labels: string[];
}

export class InputError extends Error {}

function list(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function getSettings(failureLabel: string): ReportSettings {
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  if (!token) throw new InputError('input "token" is empty: pass a token with issues:write (the default is github.token)');

  const status = (core.getInput('status') || 'failure').toLowerCase();
  if (status !== 'failure' && status !== 'success') {
    throw new InputError(`input "status" must be "failure" or "success", got ${JSON.stringify(status)}`);
  }
  const workflow = core.getInput('workflow') || process.env.GITHUB_WORKFLOW || '';
  if (!workflow) throw new InputError('input "workflow" is empty and GITHUB_WORKFLOW is not set');

  const repository = core.getInput('repository') || process.env.GITHUB_REPOSITORY || '';
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repository);
  if (!match) throw new InputError(`input "repository" must be owner/name, got ${JSON.stringify(repository)}`);

  const logLinesRaw = core.getInput('log-lines') || '50';
  const logLines = Number(logLinesRaw);
  if (!Number.isInteger(logLines) || logLines < 0 || logLines > 1000) {
    throw new InputError(`input "log-lines" must be a whole number from 0 to 1000, got ${JSON.stringify(logLinesRaw)}`);
  }
  const labels = [failureLabel, ...list(core.getInput('labels')).filter((l) => l !== failureLabel)];
  return {
    token,
    status,
    workflow,
    owner: match[1]!,
    repo: match[2]!,
    failedAction: core.getInput('failed-action'),
    failedRepositories: core.getInput('failed-repositories').split('\n').map((s) => s.trim()).filter(Boolean),
    logFiles: core.getInput('log-files').split('\n').map((s) => s.trim()).filter(Boolean),
    logLines,
    labels,
  };
}
