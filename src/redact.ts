// Every string that can leave the process (log line, error, summary, debug output) passes through a Redactor.
// Forms and sinks are listed in docs/OPERATIONS.md ("Debug output").
const REDACTED = '***';

// Credentials that may hide in text we did not produce (git's stderr, URLs typed by users).
const PATTERNS: RegExp[] = [
  /(https?:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, // user[:password]@ in URLs
  /\b(gh[pousr]_[A-Za-z0-9_]{20,})\b/g, // GitHub token formats
  /\b(github_pat_[A-Za-z0-9_]{20,})\b/g,
  /\b(AGE-SECRET-KEY-1[0-9A-Z]{58})\b/g, // age identities (bech32, upper case)
  /(authorization:\s*(?:basic|bearer|token)\s+)[^\s'"]+/gi,
];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const hexDigit = (digit: string) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit);

/**
 * A pattern for `text` that also matches it percent-encoded, wholly or in part, in either hex case, and with
 * spaces form-encoded as "+": a server that echoes what it received (encodeURIComponent, a form body, git's own
 * URL quoting) must not get the secret past us.
 */
function encodedFormsOf(text: string): string {
  return Array.from(text, (char) => {
    const bytes = [...Buffer.from(char, 'utf8')].map((b) => `%${[...b.toString(16).padStart(2, '0')].map(hexDigit).join('')}`);
    const alternatives = [escapeRegExp(char), bytes.join(''), ...(char === ' ' ? ['\\+'] : [])];
    return `(?:${alternatives.join('|')})`;
  }).join('');
}

/** The secrets one redactor knows, as one pattern per secret covering every form it can take in output. */
class SecretForms {
  private readonly patterns = new Map<string, RegExp>();

  add(secret: string): void {
    if (this.patterns.has(secret)) return;
    // git sends the token inside a base64 Basic header; other clients base64 the bare value (or base64url it).
    const header = Buffer.from(`x-access-token:${secret}`);
    const forms = [secret, header.toString('base64'), header.toString('base64url'), Buffer.from(secret).toString('base64')];
    // Longest first, so a form that contains another is removed whole.
    const unique = [...new Set(forms)].sort((a, b) => b.length - a.length);
    this.patterns.set(secret, new RegExp(unique.map(encodedFormsOf).join('|'), 'g'));
  }

  apply(text: string): string {
    let out = text;
    for (const pattern of this.patterns.values()) out = out.replace(pattern, REDACTED);
    return out;
  }
}

// Every secret any Redactor of this process was given: for output we do not format ourselves (src/debug-redact.ts).
const everySecret = new SecretForms();

function applyPatterns(text: string): string {
  let out = text.replace(PATTERNS[0]!, `$1${REDACTED}@`);
  for (const pattern of PATTERNS.slice(1)) {
    out = out.replace(pattern, (match, prefix: string) =>
      pattern.source.startsWith('(authorization') ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return out;
}

export class Redactor {
  private readonly secrets = new SecretForms();

  /** Register a secret (the GitHub token, an AWS secret key or session token, an age identity, a PEM key). */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 4) return;
    this.secrets.add(secret);
    everySecret.add(secret);
    // Output may quote one line of a multi-line secret (a PEM key's base64 body): each line is a secret too.
    if (secret.includes('\n')) for (const line of secret.split(/\r?\n/).map((l) => l.trim())) if (line.length >= 16 && !line.startsWith('-----')) this.add(line);
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
    return applyPatterns(this.secrets.apply(text));
  }
}

/** Redact with every secret registered with any Redactor in this process (for sinks no Redactor is handed to). */
export function redactEverySecret(text: string): string {
  return applyPatterns(everySecret.apply(text));
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
