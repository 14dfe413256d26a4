// GitHub App authentication (docs/OPERATIONS.md "GitHub App authentication"): the App's private key signs a JWT,
// which buys an installation token (POST /app/installations/{id}/access_tokens) through our one API client. The
// token is minted on first use and renewed before it expires (token-refresh.ts), for git and the API alike; each one
// is registered with the Redactor before anything can print it. The key never leaves this process.
import { createAppAuth } from '@octokit/auth-app';
import { AuthError, errorMessage, UsageError } from '../errors.ts';
import type { Redactor } from '../redact.ts';
import { describeApiError, isHttpError } from './api-errors.ts';
import type { GitHubAppSettings } from './app-settings.ts';
import { createGitHubClient, type GitHubClient, type GitHubClientOptions, type TokenProvider } from './client.ts';
import type { InstallationLookup } from './installation.ts';
import { refreshDue, type IssuedToken } from './token-refresh.ts';

export interface AppTokenOptions {
  app: GitHubAppSettings;
  apiUrl: string;
  /** Where to find the installation when the settings name none; asked once, on first use. */
  installation: () => InstallationLookup;
  redactor: Redactor;
  /** Told of each token minted (never the token itself). */
  log: (line: string, fields: Record<string, unknown>) => void;
  now?: () => number;
  onResponse?: GitHubClientOptions['onResponse'];
  fetch?: typeof fetch;
}

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** The installation on `lookup`'s repository or account, asked with the App's JWT. */
async function findInstallation(client: GitHubClient, jwt: string, lookup: InstallationLookup): Promise<number> {
  const headers = { authorization: `bearer ${jwt}` };
  const ask = async (route: string, params: Record<string, string>) => (await client.request(route, { ...params, headers })).data as { id?: unknown };
  let data: { id?: unknown };
  if (lookup.kind === 'repo') data = await ask('GET /repos/{owner}/{repo}/installation', { owner: lookup.owner, repo: lookup.name });
  else {
    try {
      data = await ask('GET /orgs/{org}/installation', { org: lookup.owner });
    } catch (error) {
      // Not an organization (or not installed there): a user account has its own endpoint.
      if (!isHttpError(error) || error.status !== 404) throw error;
      data = await ask('GET /users/{username}/installation', { username: lookup.owner });
    }
  }
  if (typeof data.id !== 'number' || !Number.isInteger(data.id) || data.id <= 0) throw new Error('the installation lookup answered without an installation id');
  return data.id;
}

/** A provider of installation tokens: the same token until it is due for renewal, then a new one (one request at a time). */
export function appTokenProvider(options: AppTokenOptions): TokenProvider {
  const { app, redactor } = options;
  const now = options.now ?? Date.now;
  redactor.add(app.privateKey);
  const client = createGitHubClient({ apiUrl: options.apiUrl, onResponse: options.onResponse, fetch: options.fetch });
  const auth = createAppAuth({ appId: app.appId, privateKey: app.privateKey, request: client.request, log: silent });
  let installationId = app.installationId;
  let current: (IssuedToken & { token: string }) | undefined;
  let minting: Promise<string> | undefined;

  const explain = (error: unknown, what: string): Error => {
    if (error instanceof UsageError || error instanceof AuthError) return error;
    // A key GitHub does not accept (401), or an App not installed where asked (404), is an authentication failure.
    let detail: string;
    if (isHttpError(error) && error.status === 401) detail = "GitHub refused the App's signed token (401): the private key is not this App's, the App id is wrong, or this machine's clock is off by over a minute";
    else if (isHttpError(error) && error.status === 404) detail = 'not found (404): the App is not installed there, or the installation id is wrong';
    else detail = isHttpError(error) ? describeApiError(error, what, redactor).message : redactor.redact(errorMessage(error));
    return new AuthError(`GitHub App ${app.appId} could not authenticate while ${what}: ${detail}`, { cause: error });
  };

  async function mint(): Promise<string> {
    let jwt: string;
    try {
      jwt = (await auth({ type: 'app' })).token;
    } catch (error) {
      throw new AuthError(`GitHub App ${app.appId}: the private key cannot sign a token (${redactor.redact(errorMessage(error))}); is it the App's PEM key?`);
    }
    if (installationId === undefined) {
      const lookup = options.installation();
      const where = lookup.kind === 'repo' ? `${lookup.owner}/${lookup.name}` : lookup.owner;
      try {
        installationId = await findInstallation(client, jwt, lookup);
      } catch (error) {
        throw explain(error, `finding its installation on ${where}`);
      }
      options.log(`GitHub App ${app.appId}: using installation ${installationId} (found on ${where})`, {});
    }
    try {
      const minted = await auth({ type: 'installation', installationId, refresh: true });
      redactor.add(minted.token);
      current = { token: minted.token, receivedAt: now(), expiresAt: Date.parse(minted.expiresAt) };
      options.log(`GitHub App ${app.appId}: installation token minted`, { installation: installationId, expiresAt: minted.expiresAt });
      return minted.token;
    } catch (error) {
      throw explain(error, `minting a token for installation ${installationId}`);
    }
  }

  return async () => {
    if (current && !refreshDue(now(), current)) return current.token;
    minting ??= mint().finally(() => (minting = undefined));
    return minting;
  };
}
