// When a GitHub App installation token is renewed (docs/OPERATIONS.md "GitHub App authentication"). Pure.
// GitHub issues them for one hour; a run of thousands of repositories outlives several. Renewing a margin before
// expiry means no fetch or API call ever starts with a token about to lapse.

/** At most this long before expiry (ten minutes of an hour's token). */
export const MAX_REFRESH_MARGIN_MS = 10 * 60_000;

export interface IssuedToken {
  /** When we received it, local clock (ms since the epoch). */
  receivedAt: number;
  /** GitHub's expires_at (ms since the epoch). */
  expiresAt: number;
}

/** How long before expiry a token is renewed: a quarter of its lifetime, at most MAX_REFRESH_MARGIN_MS. */
export function refreshMarginMs(token: IssuedToken): number {
  return Math.min(MAX_REFRESH_MARGIN_MS, Math.max(0, token.expiresAt - token.receivedAt) / 4);
}

export function refreshDue(now: number, token: IssuedToken): boolean {
  return now >= token.expiresAt - refreshMarginMs(token);
}
