// HTML for export --metadata's site. Everything that came from GitHub is untrusted text (titles, bodies, logins, file
// names, diff hunks): the `html` template escapes every value it is given, so markup reaches a page only when it was
// written in a template literal here. Pure.

/** Markup already built by `html` (or by this module): inserted as it is. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML character data or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function piece(value: unknown): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** A template whose interpolations are escaped, except SafeHtml (and arrays of it); null, undefined and false vanish. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => (out += piece(value) + strings[i + 1]!));
  return new SafeHtml(out);
}

/**
 * A name safe as one path segment of a link and of a file on any filesystem: letters, digits, ".", "_", "-" and
 * "+" kept, everything else "_", no leading dot, at most 100 characters. Never empty.
 */
export function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^\.+/, '_').slice(0, 100);
  return cleaned || 'file';
}

/**
 * One page: a title, a link back to the index (unless it is the index), our stylesheet. No scripts, and a policy
 * that forbids them, should an escape ever be missed (styles stay allowed: file:// pages have no origin to name).
 */
export function page(options: { title: string; depth: number; body: SafeHtml }): string {
  const up = '../'.repeat(options.depth);
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title}</title>
<link rel="stylesheet" href="${up}style.css">
</head>
<body>
${options.depth ? html`<nav><a href="${up}index.html">Index</a></nav>\n` : ''}${options.body}
</body>
</html>
`.markup;
}

/** A body as GitHub's author wrote it: preformatted text, not rendered Markdown. */
export function textBlock(text: string | null, className = 'body'): SafeHtml {
  return text ? html`<pre class="${className}">${text}</pre>` : html`<p class="empty">No description.</p>`;
}

/** "@alice", or "a deleted account" for GitHub's ghost user (null). */
export function who(login: string | null): string {
  return login === null ? 'a deleted account' : `@${login}`;
}

/** An ISO time as "2026-03-01 12:00 UTC". */
export function when(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export const STYLESHEET = `body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
a { color: #0969da; }
nav { margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
.meta { color: #59636e; margin-top: 0; }
.state { display: inline-block; padding: 0 .5rem; border-radius: 1rem; color: #fff; background: #1f883d; font-size: .85rem; }
.state.closed { background: #8250df; }
.label { display: inline-block; padding: 0 .4rem; border: 1px solid #d1d9e0; border-radius: 1rem; font-size: .85rem; margin-right: .25rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #d1d9e0; vertical-align: top; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; padding: .75rem; border-radius: 6px; }
pre.diff { white-space: pre; overflow-x: auto; font-size: .85rem; }
.comment { border: 1px solid #d1d9e0; border-radius: 6px; margin: 1rem 0; }
.comment > header { background: #f6f8fa; padding: .4rem .75rem; border-bottom: 1px solid #d1d9e0; }
.comment > pre, .comment > p { margin: .75rem; }
.thread { border-left: 3px solid #d1d9e0; padding-left: .75rem; margin: 1rem 0; }
.empty { color: #59636e; font-style: italic; }
`;
