// The GitHub calls of the failure reporter, behind one small interface so run.ts reads like a script.
import type { getOctokit } from '@actions/github';
import { describeApiError, isHttpError } from '../../../src/github/api-errors.ts';
import type { Redactor } from '../../../src/redact.ts';

type Client = ReturnType<typeof getOctokit>;

export interface OpenIssue {
  number: number;
  title: string;
  body: string | null;
  state: string;
  html_url: string;
  pull_request?: unknown;
}

export interface IssueService {
  /** Every open issue with the label, all pages, pull requests left out. */
  listOpenWithLabel(label: string): Promise<OpenIssue[]>;
  ensureLabel(name: string, color: string, description: string): Promise<void>;
  create(title: string, body: string, labels: string[]): Promise<OpenIssue>;
  comment(issue: number, body: string): Promise<void>;
  close(issue: number): Promise<void>;
}

export function createIssueService(octokit: Client, owner: string, repo: string, redactor: Redactor): IssueService {
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw describeApiError(error, `${what} in ${owner}/${repo}`, redactor);
    }
  };
  return {
    async listOpenWithLabel(label) {
      const issues = await call(`listing open issues labelled ${label}`, () =>
        octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo, state: 'open', labels: label, per_page: 100 }),
      );
      return (issues as OpenIssue[]).filter((i) => !i.pull_request);
    },
    async ensureLabel(name, color, description) {
      try {
        await octokit.rest.issues.getLabel({ owner, repo, name });
        return;
      } catch (error) {
        if (!isHttpError(error) || error.status !== 404) throw describeApiError(error, `reading label ${name}`, redactor);
      }
      try {
        await octokit.rest.issues.createLabel({ owner, repo, name, color, description });
      } catch (error) {
        // 422: created meanwhile by a concurrent run; that is what we wanted.
        if (!isHttpError(error) || error.status !== 422) throw describeApiError(error, `creating label ${name}`, redactor);
      }
    },
    async create(title, body, labels) {
      const { data } = await call('creating the failure issue', () => octokit.rest.issues.create({ owner, repo, title, body, labels }));
      return data as OpenIssue;
    },
    async comment(issue, body) {
      await call(`commenting on issue #${issue}`, () => octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body }));
    },
    async close(issue) {
      await call(`closing issue #${issue}`, () =>
        octokit.rest.issues.update({ owner, repo, issue_number: issue, state: 'closed', state_reason: 'completed' }),
      );
    },
  };
}
