// What a failed API read means for one kind (docs/METADATA_FORMAT.md, capture.json `state`): a feature switched off
// on GitHub (410) is `disabled`; a rate limit past the wait budget leaves the kind `partial` and stops the
// repository's capture, which resumes next run; anything else (451, 403, 404, an outage) is `failed` for that kind
// alone. The reason is built here from the status and GitHub's own message, never from a URL or header we sent.
import { AbortedError } from '../errors.ts';
import { isHttpError } from '../github/api-errors.ts';

export interface KindFailure {
  state: 'disabled' | 'failed' | 'partial';
  reason: string;
  /** No further request for this repository can succeed in this run (rate limit, a refused token). */
  stopsRepository: boolean;
}

function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: unknown } }).response?.data;
  const message = typeof data === 'object' && data !== null ? (data as { message?: unknown }).message : undefined;
  return typeof message === 'string' && message ? ` (GitHub said: ${message.slice(0, 200)})` : '';
}

export function isRateLimited(error: unknown): boolean {
  if (!isHttpError(error) || (error.status !== 403 && error.status !== 429)) return false;
  const headers = error.response?.headers ?? {};
  return String(headers['x-ratelimit-remaining']) === '0' || headers['retry-after'] !== undefined || error.status === 429;
}

/** Classify an error from reading `what`; a stop on request is not a kind failing and is thrown on. */
export function classifyFailure(error: unknown, what: string, signal?: AbortSignal): KindFailure {
  if (signal?.aborted || error instanceof AbortedError) throw error instanceof AbortedError ? error : new AbortedError();
  if (!isHttpError(error)) return { state: 'failed', reason: `${what}: ${error instanceof Error ? error.message : String(error)}`, stopsRepository: false };
  const said = githubMessage(error);
  if (isRateLimited(error)) {
    const reset = Number(error.response?.headers?.['x-ratelimit-reset']);
    const until = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
    return { state: 'partial', reason: `${what}: rate limit still exceeded after the bounded wait${until}; the next run resumes here`, stopsRepository: true };
  }
  // No answer at all (refused, timed out): the other kinds would wait for nothing the same way.
  if (!error.response) return { state: 'failed', reason: `${what}: the GitHub API did not answer (${error.message ?? 'no response'})`, stopsRepository: true };
  switch (error.status) {
    case 410:
      return { state: 'disabled', reason: `${what}: HTTP 410, the feature is disabled on GitHub${said}`, stopsRepository: false };
    case 451:
      return { state: 'failed', reason: `${what}: HTTP 451, unavailable for legal reasons${said}`, stopsRepository: false };
    case 401:
      return { state: 'failed', reason: `${what}: HTTP 401, the token was refused${said}`, stopsRepository: true };
    case 403:
      return { state: 'failed', reason: `${what}: HTTP 403, the token cannot read this${said}`, stopsRepository: false };
    case 404:
      return { state: 'failed', reason: `${what}: HTTP 404, not found or not visible with this token${said}`, stopsRepository: false };
    default:
      return { state: 'failed', reason: `${what}: HTTP ${error.status}${said}`, stopsRepository: false };
  }
}
