// A failed call to a remote, explained: authentication (exit 12), not found (exit 10), a stalled network, or git's
// own words. Used by fetch (mirror.ts) and by restore --push.
import { AuthError, BackupError, errorMessage, NotFoundError } from '../errors.ts';
import { stallSecondsFromEnv } from '../git/deadline.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';

// git's own words for a token that is missing, expired, revoked or without access to the repository.
// git-lfs says "Authorization error" for a 401 or 403 from the LFS endpoint.
const AUTH_FAILURE = /could not read username|could not read password|authentication failed|returned error: 40[13]|invalid username or password|permission denied \(publickey\)|terminal prompts disabled|authorization error/i;
const NOT_FOUND = /repository not found|repository '[^']*' not found|returned error: 404|does not appear to be a git repository/i;
// curl's words when http.lowSpeedTime passes (src/git/deadline.ts).
const STALLED = /operation too slow/i;
const SSH_URL = /^(ssh:\/\/|[\w.-]+@[\w.-]+:)/;

/**
 * Why the token did not help, when it cannot have: it is only ever sent to the GitHub server's https URLs
 * (docs/OPERATIONS.md "Environment", GITHUB_API_URL), never to another host and never over ssh.
 */
function tokenNotSent(ctx: EngineContext, url: string): string | undefined {
  if (ctx.github.kind === 'none') return undefined;
  if (SSH_URL.test(url)) return 'a token is set but not used: this is an ssh URL, which authenticates with an SSH key';
  if (/^https?:\/\//i.test(url) && !url.toLowerCase().startsWith(`${ctx.serverUrl.toLowerCase()}/`)) {
    return `a token is set but was not sent: it goes only to ${ctx.serverUrl}/ (set GITHUB_API_URL for a GitHub Enterprise server), and this host needs its own credentials`;
  }
  return undefined;
}

/**
 * What a failed remote call (ls-remote, fetch, push) means for the user, as a typed error (exit 12 or 10, src/errors.ts),
 * keeping git's words after it. `attempts`: how many times the call was tried.
 */
export function explainRemoteFailure(ctx: EngineContext, target: RepoTarget, error: unknown, attempts = 1): BackupError {
  const message = errorMessage(error);
  if (AUTH_FAILURE.test(message)) {
    const why = tokenNotSent(ctx, target.url) ?? 'the token is missing, expired, revoked or cannot read this repository';
    return new AuthError(`authentication failed for ${target.id} at ${target.url}: ${why} (${message})`, { cause: error });
  }
  if (NOT_FOUND.test(message)) {
    const why = tokenNotSent(ctx, target.url);
    return new NotFoundError(`${target.id} was not found at ${target.url}, or the credentials cannot see it${why ? ` (${why})` : ''} (${message})`, { cause: error });
  }
  if (STALLED.test(message)) {
    return new BackupError(
      `${target.url} stopped answering for ${target.id}: less than a byte a second for ${stallSecondsFromEnv()} s${attempts > 1 ? `, ${attempts} times` : ''} (BACKUP_STALL_SECONDS sets the bound) (${message})`,
      undefined,
      { cause: error },
    );
  }
  return error instanceof BackupError ? error : new BackupError(message, undefined, { cause: error });
}
