// Pure parts of the failure alert: the issue's title, body and comments, the hidden marker that ties an issue to a
// workflow, the log excerpt, and which open issue a run belongs to. No network here (see actions/report-failure).
import { Redactor } from '../redact.ts';

export const FAILURE_LABEL = 'backup-failure';
/** GitHub refuses issue bodies and comments over 65536 characters. */
const MAX_BODY = 60_000;

export interface RunInfo {
  workflow: string;
  /** e.g. https://github.com/owner/repo/actions/runs/123/attempts/2; empty when unknown. */
  runUrl: string;
  runId: string;
  runAttempt: string;
  /** The commit or ref the run was on, for context. */
  ref?: string;
}

export interface FailureDetails {
  failedAction: string;
  failedRepositories: string[];
  /** Already redacted log lines (see logExcerpt). */
  logExcerpt: string[];
  /** Where the full logs are (artifact name), if known. */
  logArtifact?: string;
}

export interface IssueLike {
  number: number;
  title?: string;
  body?: string | null;
  state?: string;
  pull_request?: unknown;
}

/** The hidden line that marks an issue as this workflow's failure issue. The name is URI-encoded so `-->` cannot end it early. */
export function workflowMarker(workflow: string): string {
  return `<!-- github-private-backup:workflow=${encodeURIComponent(workflow)} -->`;
}

export function runUrl(env: NodeJS.ProcessEnv): string {
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const repo = env.GITHUB_REPOSITORY;
  const id = env.GITHUB_RUN_ID;
  if (!repo || !id) return '';
  const attempt = env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '';
  return `${server}/${repo}/actions/runs/${id}${attempt}`;
}

/**
 * The open failure issue for this workflow: open, not a pull request (the issues API lists both), carrying this
 * workflow's marker. With several (created by hand or by a race), the oldest wins so every run talks to the same one.
 */
export function findMatchingIssue<T extends IssueLike>(issues: readonly T[], workflow: string): T | undefined {
  const marker = workflowMarker(workflow);
  return issues
    .filter((i) => !i.pull_request && (i.state === undefined || i.state === 'open') && (i.body ?? '').includes(marker))
    .sort((a, b) => a.number - b.number)[0];
}

/** The last `lines` lines of the given log texts, redacted: secrets never reach an issue. */
export function logExcerpt(texts: readonly string[], lines: number, redactor: Redactor = new Redactor()): string[] {
  const all = texts.flatMap((t) => t.split(/\r?\n/)).filter((l, i, arr) => !(l === '' && i === arr.length - 1));
  return all
    .filter((l) => l.trim() !== '')
    .slice(-Math.max(lines, 0))
    .map((l) => redactor.redact(l));
}

export function failureTitle(workflow: string): string {
  return `Backup failed: ${workflow}`;
}

function codeBlock(lines: readonly string[]): string {
  // A fence longer than any backtick run in the text, so a log line cannot close it.
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${lines.join('\n')}\n${fence}`;
}

function clip(text: string): string {
  return text.length <= MAX_BODY ? text : `${text.slice(0, MAX_BODY)}\n\n… (truncated)`;
}

function failureSection(run: RunInfo, details: FailureDetails): string {
  const repos = details.failedRepositories.length
    ? details.failedRepositories.map((r) => `- \`${r}\``).join('\n')
    : '- (not reported: the run failed before or outside the per-repository work)';
  const parts = [
    `**Run:** ${run.runUrl ? `[${run.runId}${run.runAttempt && run.runAttempt !== '1' ? ` (attempt ${run.runAttempt})` : ''}](${run.runUrl})` : '(unknown)'}`,
    `**Failed action:** \`${details.failedAction || 'unknown'}\``,
    run.ref ? `**Ref:** \`${run.ref}\`` : '',
    '',
    '**Repositories that failed:**',
    repos,
  ];
  if (details.logExcerpt.length) {
    parts.push('', `<details><summary>Last ${details.logExcerpt.length} log lines (secrets redacted)</summary>`, '', codeBlock(details.logExcerpt), '', '</details>');
  }
  if (details.logArtifact) parts.push('', `Full logs: artifact \`${details.logArtifact}\` of the run.`);
  return parts.filter((p, i) => p !== '' || parts[i - 1] !== '').join('\n');
}

export function failureBody(run: RunInfo, details: FailureDetails): string {
  return clip(
    [
      workflowMarker(run.workflow),
      `The scheduled backup workflow **${run.workflow}** failed.`,
      '',
      failureSection(run, details),
      '',
      'This issue is updated by later failing runs and closed automatically when a run succeeds.',
    ].join('\n'),
  );
}

export function failureComment(run: RunInfo, details: FailureDetails): string {
  return clip([`The backup failed again.`, '', failureSection(run, details)].join('\n'));
}

export function recoveryComment(run: RunInfo): string {
  return `The backup succeeded again${run.runUrl ? ` in [run ${run.runId}](${run.runUrl})` : ''}. Closing.`;
}

/** What the reporter should do, given the status and the issue found (pure decision, for tests and logs). */
export type ReportAction = 'create' | 'comment' | 'close' | 'none';

export function decide(status: 'failure' | 'success', existing: IssueLike | undefined): ReportAction {
  if (status === 'failure') return existing ? 'comment' : 'create';
  return existing ? 'close' : 'none';
}
