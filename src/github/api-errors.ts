// GitHub API errors turned into messages a person can act on (rate limit, bad token, missing permission, not found).
import { AuthError, BackupError, ExitCode, NotFoundError } from '../errors.ts';
import { Redactor } from '../redact.ts';

export interface HttpError {
  status: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

export function isHttpError(error: unknown): error is HttpError {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}

/**
 * Turn an Octokit error into a message a person can act on. Never includes the token: the message is built here
 * from the status and GitHub's own headers, then redacted anyway.
 */
export function describeApiError(error: unknown, what: string, redactor = new Redactor()): BackupError {
  // Already explained where it happened (a GitHub App that could not get a token): keep its words and exit code.
  if (error instanceof BackupError) return error;
  if (!isHttpError(error)) {
    const text = error instanceof Error ? error.message : String(error);
    return new BackupError(redactor.redact(`GitHub API request failed while ${what}: ${text}`));
  }
  if (!error.response) {
    // Octokit reports a request that never got an answer (refused, DNS, TLS) as status 500 without a response.
    return new BackupError(redactor.redact(`could not reach the GitHub API while ${what}: ${error.message ?? 'no response'}`));
  }
  const headers = error.response.headers ?? {};
  const remaining = headers['x-ratelimit-remaining'];
  const reset = Number(headers['x-ratelimit-reset']);
  const apiMessage = error.message ? ` (GitHub said: ${error.message.split(' - ')[0]})` : '';
  let message: string;
  // A refused token exits 12 and a missing owner 10 (src/errors.ts), so a script can tell them from an outage.
  let make = (text: string): BackupError => new BackupError(text, ExitCode.FAILURE);
  if ((error.status === 403 || error.status === 429) && (String(remaining) === '0' || error.status === 429)) {
    const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
    message = `GitHub API rate limit exceeded while ${what}; requests are refused${when}. Retry later or use a token with a higher limit.`;
  } else if (headers['retry-after'] !== undefined && error.status === 403) {
    message = `GitHub API secondary rate limit hit while ${what}; retry after ${headers['retry-after']} seconds.`;
  } else if (error.status === 401) {
    message = `GitHub API rejected the token while ${what} (401 Bad credentials): the token is missing, expired or revoked.`;
    make = (text) => new AuthError(text);
  } else if (error.status === 403) {
    message = `GitHub API refused access while ${what} (403 Forbidden)${apiMessage}: the token lacks the permission needed (repository metadata read, or organization access for SSO-protected orgs).`;
    make = (text) => new AuthError(text);
  } else if (error.status === 404) {
    message = `GitHub API found nothing while ${what} (404 Not Found): the owner does not exist or is not visible with this token.`;
    make = (text) => new NotFoundError(text);
  } else {
    message = `GitHub API request failed while ${what}: HTTP ${error.status}${apiMessage}.`;
  }
  return make(redactor.redact(message));
}
