// A GitHub App on the GitHub API stand-in: installations found by account or repository, installation tokens minted
// by POST /app/installations/:id/access_tokens for a JWT that verifies against the App's public key (RS256, checked
// with node:crypto as GitHub does), each valid for a short, configurable lifetime. Every token request and every use
// of a token (API or git) is checked and recorded, so a test can prove what was sent and when.
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type GitHubStandIn, type StandInResponse, notFound } from './github-standin.ts';

/** A key pair as GitHub issues an App's private key: PKCS#1 PEM, RSA 2048. */
export function generateAppKeyPair(): { privateKey: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { privateKey, publicKey: createPublicKey(publicKey) };
}

export interface IssuedAppToken {
  token: string;
  installationId: number;
  issuedAt: number;
  expiresAt: number;
}

export interface TokenUse {
  /** "api GET /repos/acme/x" or "git GET /acme/x.git/info/refs?…" */
  what: string;
  at: number;
  token: string | null;
  /** Why it was refused; absent when it was accepted. */
  refused?: string;
}

export interface AppModelOptions {
  appId: number;
  publicKey: KeyObject;
  /** Installation id by account login (lower case). */
  installations: Record<string, number>;
  tokenLifetimeMs: number;
}

const b64url = (text: string) => Buffer.from(text, 'base64url');

export class GitHubAppModel {
  readonly issued: IssuedAppToken[] = [];
  readonly uses: TokenUse[] = [];
  /** Every JWT presented, verified or not. */
  readonly jwts: Array<{ at: number; ok: boolean; why?: string }> = [];

  constructor(
    private readonly standIn: GitHubStandIn,
    private readonly options: AppModelOptions,
  ) {}

  /** A JWT from `authorization: bearer …`, checked: RS256 signature by the App's key, iss = app id, iat/exp now. */
  private checkJwt(headers: IncomingHttpHeaders): string | undefined {
    const jwt = /^bearer (.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    const why = ((): string | undefined => {
      if (!jwt) return 'no bearer JWT';
      const [head, body, signature] = jwt.split('.');
      if (!head || !body || !signature) return 'not a JWT';
      const header = JSON.parse(b64url(head).toString()) as { alg?: string };
      if (header.alg !== 'RS256') return `alg ${header.alg}`;
      if (!verify('RSA-SHA256', Buffer.from(`${head}.${body}`), this.options.publicKey, b64url(signature))) return 'bad signature';
      const claims = JSON.parse(b64url(body).toString()) as { iss?: unknown; iat?: number; exp?: number };
      const now = Date.now() / 1000;
      if (String(claims.iss) !== String(this.options.appId)) return `iss ${String(claims.iss)}`;
      if (!claims.exp || claims.exp <= now || claims.exp - (claims.iat ?? 0) > 600) return 'expired or too long';
      if (!claims.iat || claims.iat > now + 60) return 'issued in the future';
      return undefined;
    })();
    this.jwts.push({ at: Date.now(), ok: !why, ...(why ? { why } : {}) });
    return why;
  }

  private jwtRefused(why: string): StandInResponse {
    return { status: 401, body: { message: `A JSON web token could not be decoded (${why})`, documentation_url: 'https://docs.github.com/rest' } };
  }

  private installation(account: string): StandInResponse {
    const id = this.options.installations[account.toLowerCase()];
    return id ? { status: 200, body: { id, account: { login: account }, app_id: this.options.appId } } : { status: 404, body: notFound() };
  }

  /**
   * The installation token a request carries (`token …` for the API, Basic x-access-token for git), checked now: one
   * we issued and not expired. Recorded either way.
   */
  check(what: string, headers: IncomingHttpHeaders): TokenUse {
    const header = String(headers.authorization ?? '');
    let token: string | null = /^token (.+)$/i.exec(header)?.[1] ?? null;
    const basic = /^basic (.+)$/i.exec(header)?.[1];
    if (basic) token = Buffer.from(basic, 'base64').toString().replace(/^x-access-token:/, '');
    const now = Date.now();
    const issued = this.issued.find((t) => t.token === token);
    const refused = !token ? 'no token' : !issued ? 'unknown token' : issued.expiresAt <= now ? `expired ${now - issued.expiresAt} ms ago` : undefined;
    const use: TokenUse = { what, at: now, token, ...(refused ? { refused } : {}) };
    this.uses.push(use);
    return use;
  }

  install(): this {
    const s = this.standIn;
    s.on('POST', /^\/app\/installations\/(\d+)\/access_tokens$/, (req, [id]) => {
      const why = this.checkJwt(req.headers);
      if (why) return this.jwtRefused(why);
      if (!Object.values(this.options.installations).includes(Number(id))) return { status: 404, body: notFound() };
      const issuedAt = Date.now();
      const token: IssuedAppToken = { token: `ghs_${randomBytes(18).toString('hex')}`, installationId: Number(id), issuedAt, expiresAt: issuedAt + this.options.tokenLifetimeMs };
      this.issued.push(token);
      return {
        status: 201,
        body: { token: token.token, expires_at: new Date(token.expiresAt).toISOString(), permissions: { contents: 'read', metadata: 'read' }, repository_selection: 'all' },
      };
    });
    for (const [pattern, account] of [
      [/^\/orgs\/([^/]+)\/installation$/, (p: string[]) => p[0]!],
      [/^\/users\/([^/]+)\/installation$/, (p: string[]) => p[0]!],
      [/^\/repos\/([^/]+)\/[^/]+\/installation$/, (p: string[]) => p[0]!],
    ] as const) {
      s.on('GET', pattern, (req, params) => {
        const why = this.checkJwt(req.headers);
        return why ? this.jwtRefused(why) : this.installation(account(params));
      });
    }
    return this;
  }

  /** Wrap an API route: answered only with a valid installation token, 401 Bad credentials otherwise. */
  guard(handler: Parameters<GitHubStandIn['on']>[2]): Parameters<GitHubStandIn['on']>[2] {
    return (req, params) => {
      const use = this.check(`api ${req.method} ${req.path}`, req.headers);
      if (use.refused) return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
      return handler(req, params);
    };
  }
}
