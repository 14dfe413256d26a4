// The one way this project talks to the GitHub REST API: @octokit/rest with the official throttling and retry
// plugins. Primary and secondary rate limits are waited out (x-ratelimit-reset, Retry-After) within a bounded total
// wait per client, so a run slows down instead of failing half an organisation, and never waits unboundedly.
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck/light.js';
import { useImmediateScheduling } from './bottleneck-scheduling.ts';

// Bottleneck's zero waits cost a millisecond timer each, several per request: made immediate for every client here.
useImmediateScheduling();
const ThrottledOctokit = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof ThrottledOctokit>;

/** What authenticates a request: a token, or a provider asked before every request (GitHub App tokens expire). */
export type GitHubToken = string | TokenProvider;
export type TokenProvider = () => Promise<string | undefined>;

/** The headers of an API response, for whoever watches the rate-limit budget (src/github/api-budget.ts). */
export type ResponseHeaders = Record<string, string | number | undefined>;

export interface GitHubClientOptions {
  apiUrl: string;
  token?: GitHubToken;
  /** Told the headers of every response, errors included (x-ratelimit-remaining and friends). */
  onResponse?: (headers: ResponseHeaders) => void;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Gives up requests (a stop on request, a deadline). */
  signal?: AbortSignal;
  /** Total seconds this client may spend waiting out rate limits (default BACKUP_API_MAX_WAIT_SECONDS, else 300). */
  maxWaitSeconds?: number;
  /** Told about each wait, for the log. */
  onWait?: (seconds: number, why: string) => void;
  /** Shared by clients that wait out of one budget (a run's metadata captures); default: this client's own. */
  waitBudget?: WaitBudget;
}

/** Seconds of rate-limit waiting spent so far out of `maxWaitSeconds`. */
export interface WaitBudget {
  waitedSeconds: number;
}

/** Milliseconds per "second" of a Retry-After or backoff: BACKUP_RETRY_BASE_MS shortens every wait in tests. */
function baseMs(env: NodeJS.ProcessEnv): number {
  const value = Number(env.BACKUP_RETRY_BASE_MS);
  return Number.isFinite(value) && value > 0 ? value : 1000;
}

// GitHub asks for a second between requests that create content, and more before those that notify people (an issue,
// a comment); the plugin paces them so, and we keep its pacing, in the same unit as every other wait: shared by every
// client of the process, as the plugin's own limiters are.
const pacing = new Map<number, { write: Bottleneck.Group; notifications: Bottleneck.Group }>();
function pacingFor(base: number) {
  if (!pacing.has(base)) {
    pacing.set(base, {
      write: new Bottleneck.Group({ id: `gpb-write-${base}`, maxConcurrent: 1, minTime: base }),
      notifications: new Bottleneck.Group({ id: `gpb-notifications-${base}`, maxConcurrent: 1, minTime: 3 * base }),
    });
  }
  return pacing.get(base)!;
}

/** Throttle and retry settings for any Octokit built with the two plugins (ours, or @actions/github's getOctokit). */
export function rateLimitOptions(options: Pick<GitHubClientOptions, 'maxWaitSeconds' | 'onWait' | 'waitBudget'>, env: NodeJS.ProcessEnv = process.env) {
  const budget = options.maxWaitSeconds ?? (Number(env.BACKUP_API_MAX_WAIT_SECONDS) || 300);
  const spent: WaitBudget = options.waitBudget ?? { waitedSeconds: 0 };
  const waitOut =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      // Past the budget (or the third try) the request fails with GitHub's own rate-limit error, which names the reset.
      if (retryCount >= 3 || spent.waitedSeconds + retryAfter > budget) return false;
      spent.waitedSeconds += retryAfter;
      options.onWait?.(retryAfter, `${kind} on ${request.method} ${request.url}`);
      return true;
    };
  const base = baseMs(env);
  return {
    throttle: { onRateLimit: waitOut('rate limit'), onSecondaryRateLimit: waitOut('secondary rate limit'), retryAfterBaseValue: base, ...pacingFor(base) },
    retry: { retries: 2, retryAfterBaseValue: base },
  };
}

type Hooked = (request: GitHubClient['request'], route: Parameters<GitHubClient['request']>[0], parameters?: Record<string, unknown>) => Promise<unknown>;

/**
 * An Octokit auth strategy that asks `provider` for the token before each request (retries included), so a
 * refreshed GitHub App installation token is used as soon as it exists. A request that carries its own
 * authorization (a GitHub App's JWT) keeps it.
 */
function providedTokenAuth(provider: TokenProvider) {
  return () => {
    const hook: Hooked = async (request, route, parameters) => {
      const endpoint = request.endpoint.merge(route as string, parameters);
      const token = endpoint.headers.authorization ? undefined : await provider();
      if (token) endpoint.headers.authorization = `token ${token}`;
      return request(endpoint as never);
    };
    return Object.assign(async () => ({ type: 'token', token: await provider() }), { hook });
  };
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { token } = options;
  const octokit = new ThrottledOctokit({
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    ...(typeof token === 'string' && token ? { auth: token } : {}),
    ...(typeof token === 'function' ? { authStrategy: providedTokenAuth(token) } : {}),
    userAgent: 'github-private-backup',
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    request: { ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.signal ? { signal: options.signal } : {}) },
    ...rateLimitOptions(options),
  });
  const { onResponse } = options;
  if (onResponse) {
    octokit.hook.after('request', (response) => onResponse(response.headers as ResponseHeaders));
    octokit.hook.error('request', (error) => {
      const headers = (error as { response?: { headers?: ResponseHeaders } }).response?.headers;
      if (headers) onResponse(headers);
      throw error;
    });
  }
  return octokit;
}

export { retry, throttling };
