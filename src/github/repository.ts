// One repository's identity as GitHub knows it: its permanent id and its current full name. A renamed
// repository answers its old name with a redirect to /repositories/{id}, which is followed.
import { BackupError } from '../errors.ts';
import { describeApiError, isHttpError } from './api-errors.ts';
import { createGitHubClient, type GitHubClientOptions, type GitHubToken } from './client.ts';
import { Redactor } from '../redact.ts';

export interface GitHubRepositoryIdentity {
  id: number;
  fullName: string;
  /** The whole answer, for the metadata capture's settings (src/engine/repository-answer.ts). */
  answer: RepositoryRecordAnswer;
}

/** GitHub's repository record as answered, and the ETag it came with; or a 304 to the ETag of an earlier answer. */
export type RepositoryRecordAnswer = { data: unknown; etag?: string } | { notModified: true; etag: string };

/** What an earlier answer said: asked with its ETag, a 304 stands for this id and name. */
export interface KnownRepositoryRecord {
  etag: string;
  id: number;
  fullName: string;
}

export interface LookupOptions {
  apiUrl: string;
  token?: GitHubToken;
  /** Told every response's headers (the rate-limit budget). */
  onResponse?: GitHubClientOptions['onResponse'];
  owner: string;
  name: string;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Gives up the request (a stop on request, a deadline). */
  signal?: AbortSignal;
  /** The record as last read: the request is conditional. */
  known?: KnownRepositoryRecord;
}

export async function lookupRepositoryIdentity(options: LookupOptions): Promise<GitHubRepositoryIdentity> {
  const redactor = new Redactor();
  if (typeof options.token === 'string') redactor.add(options.token);
  const octokit = createGitHubClient(options);
  let data: unknown;
  let etag: string | undefined;
  try {
    const known = options.known;
    const response = await octokit.rest.repos.get({ owner: options.owner, repo: options.name, ...(known ? { headers: { 'if-none-match': known.etag } } : {}) });
    data = response.data;
    etag = typeof response.headers.etag === 'string' ? response.headers.etag : undefined;
  } catch (error) {
    // Unchanged since the answer the ETag names (a 304 costs no rate limit): its id and name stand.
    const known = options.known;
    if (known && isHttpError(error) && error.status === 304) return { id: known.id, fullName: known.fullName, answer: { notModified: true, etag: known.etag } };
    throw describeApiError(error, `looking up repository ${options.owner}/${options.name}`, redactor);
  }
  const { id, full_name: fullName } = (data ?? {}) as { id?: unknown; full_name?: unknown };
  if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0 || typeof fullName !== 'string' || !fullName.includes('/')) {
    throw new BackupError(`GitHub API answered the lookup of ${options.owner}/${options.name} without a repository id and full name`);
  }
  return { id, fullName, answer: { data, ...(etag ? { etag } : {}) } };
}
