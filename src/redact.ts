// Every string that can leave the process (log line, error, summary) passes through a Redactor.
const REDACTED = '***';

// Credentials that may hide in text we did not produce (git's stderr, URLs typed by users).
const PATTERNS: RegExp[] = [
  /(https?:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, // user[:password]@ in URLs
  /\b(gh[pousr]_[A-Za-z0-9_]{20,})\b/g, // GitHub token formats
  /\b(github_pat_[A-Za-z0-9_]{20,})\b/g,
  /(authorization:\s*(?:basic|bearer|token)\s+)[^\s'"]+/gi,
];

export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    if (!secret || secret.length < 4) return;
    this.secrets.add(secret);
    // git sends the token inside a base64 Basic header: redact that form too.
    this.secrets.add(Buffer.from(`x-access-token:${secret}`).toString('base64'));
  }

  /** Redact every string inside a JSON-like value (a report attached to an error). */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactDeep(v)])) as T;
    }
    return value;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    out = out.replace(PATTERNS[0]!, `$1${REDACTED}@`);
    for (const pattern of PATTERNS.slice(1)) {
      out = out.replace(pattern, (match, prefix: string) =>
        pattern.source.startsWith('(authorization') ? `${prefix}${REDACTED}` : REDACTED,
      );
    }
    return out;
  }
}

/** Strip credentials from a URL before it is recorded anywhere. */
export function stripCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
    }
    return parsed.toString();
  } catch {
    return url.replace(PATTERNS[0]!, '$1');
  }
}
