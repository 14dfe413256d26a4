// The report-failure action as a script of named phases: read inputs, find the workflow's open failure issue,
// then create, comment or close.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import { rateLimitOptions, retry, throttling } from '../../../src/github/client.ts';
import {
  FAILURE_LABEL,
  decide,
  failureBody,
  failureComment,
  failureTitle,
  findMatchingIssue,
  logExcerpt,
  recoveryComment,
  runUrl,
  type RunInfo,
} from '../../../src/github/failure-report.ts';
import { Redactor } from '../../../src/redact.ts';
import { getSettings } from './input-helper.ts';
import { createIssueService } from './issues.ts';

/** A directory stands for its newest log (names sort by date: backup-YYYYMMDD.log). */
function readLogs(paths: string[]): string[] {
  const texts: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) {
      core.warning(`log file ${path} does not exist; the issue will have no excerpt from it`);
      continue;
    }
    let file = path;
    if (statSync(path).isDirectory()) {
      const logs = readdirSync(path).filter((n) => n.endsWith('.log')).sort();
      if (!logs.length) {
        core.warning(`no *.log file in ${path}`);
        continue;
      }
      file = join(path, logs[logs.length - 1]!);
    }
    texts.push(readFileSync(file, 'utf8'));
  }
  return texts;
}

export async function run(): Promise<void> {
  try {
    const settings = getSettings(FAILURE_LABEL);
    const redactor = new Redactor();
    redactor.add(settings.token);
    const info: RunInfo = {
      workflow: settings.workflow,
      runUrl: runUrl(process.env),
      runId: process.env.GITHUB_RUN_ID ?? '',
      runAttempt: process.env.GITHUB_RUN_ATTEMPT ?? '1',
      ref: process.env.GITHUB_SHA ? process.env.GITHUB_SHA.slice(0, 12) : undefined,
    };
    // GITHUB_API_URL is honoured by @actions/github; passing it again keeps the value read now, not at import.
    // The same throttling and retry plugins as every other client of ours (src/github/client.ts).
    const octokit = getOctokit(
      settings.token,
      { baseUrl: (process.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''), ...rateLimitOptions({ onWait: (s, why) => core.info(`waiting ${s} s: ${why}`) }) },
      throttling,
      retry,
    );
    const issues = createIssueService(octokit, settings.owner, settings.repo, redactor);

    const existing = await core.group('Find the open failure issue', async () => {
      const open = await issues.listOpenWithLabel(FAILURE_LABEL);
      const match = findMatchingIssue(open, settings.workflow);
      core.info(match ? `open issue #${match.number} belongs to "${settings.workflow}"` : `no open ${FAILURE_LABEL} issue for "${settings.workflow}" (${open.length} open with the label)`);
      return match;
    });

    const action = decide(settings.status, existing);
    const details = {
      failedAction: settings.failedAction,
      failedRepositories: settings.failedRepositories,
      logExcerpt: settings.status === 'failure' ? logExcerpt(readLogs(settings.logFiles), settings.logLines, redactor) : [],
      logArtifact: info.runId ? `backup-logs-${info.runId}-${info.runAttempt}` : undefined,
    };

    let number = existing?.number;
    let url = existing?.html_url ?? '';
    await core.group(`Report: ${action}`, async () => {
      switch (action) {
        case 'create': {
          for (const label of settings.labels) {
            await issues.ensureLabel(label, label === FAILURE_LABEL ? 'b60205' : 'ededed', label === FAILURE_LABEL ? 'A github-private-backup run failed' : '');
          }
          const created = await issues.create(failureTitle(settings.workflow), failureBody(info, details), settings.labels);
          number = created.number;
          url = created.html_url;
          core.info(`opened issue #${number}: ${url}`);
          break;
        }
        case 'comment':
          await issues.comment(existing!.number, failureComment(info, details));
          core.info(`commented on issue #${existing!.number}`);
          break;
        case 'close':
          await issues.comment(existing!.number, recoveryComment(info));
          await issues.close(existing!.number);
          core.info(`closed issue #${existing!.number}`);
          break;
        case 'none':
          core.info('the run succeeded and no failure issue is open: nothing to do');
      }
    });

    const result = { create: 'created', comment: 'commented', close: 'closed', none: 'none' }[action];
    core.setOutput('result', result);
    core.setOutput('issue-number', number === undefined ? '' : String(number));
    core.setOutput('issue-url', url);
    if (process.env.GITHUB_STEP_SUMMARY) {
      await core.summary
        .addHeading('Backup failure report', 3)
        .addRaw(action === 'none' ? 'No failure issue open; nothing to do.' : `Issue [#${number}](${url}) ${result}.`, true)
        .write();
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
