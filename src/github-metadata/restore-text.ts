// The words restore --metadata-to puts in front of each recreated record: who wrote it, when, under which number, and
// its reactions (docs/METADATA_FORMAT.md "What a restored record says"). Pure. An original author is named without a
// mention: GitHub notifies `@login` in a body, but not a login that is a link's text or in a code span, and a restore
// of thousands of records must not notify everyone who ever wrote one of them.

/** What GitHub accepts as a login (github.com's, and Enterprise Managed Users' `name_shortcode`). */
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** GitHub's reactions, in the order its pages show them. */
const REACTIONS: ReadonlyArray<readonly [string, string]> = [
  ['+1', '👍'],
  ['-1', '👎'],
  ['laugh', '😄'],
  ['hooray', '🎉'],
  ['confused', '😕'],
  ['heart', '❤️'],
  ['rocket', '🚀'],
  ['eyes', '👀'],
];

/** `text` as a Markdown code span: one line, with a fence longer than any run of backticks in it. */
export function codeSpan(text: string): string {
  const line = text.replace(/[\r\n]+/g, ' ');
  const fence = '`'.repeat(Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

/**
 * An original author, named without notifying them: a link to their profile on `serverUrl` with the bare login as
 * its text. Anything that is not a login (the backup is untrusted input) is shown as a code span, never as markup.
 */
export function authorName(login: string | null, serverUrl: string): string {
  if (login === null) return 'a deleted account';
  if (!LOGIN.test(login)) return codeSpan(login);
  return `[${login.replace(/_/g, '\\_')}](${serverUrl.replace(/\/+$/, '')}/${login})`;
}

/** " · 👍 3 · 🎉 1" from captured counts ({"+1": 3, "hooray": 1}); "" when there are none. */
export function reactionSummary(reactions: Record<string, number> | undefined): string {
  if (!reactions) return '';
  const known = new Map(REACTIONS);
  const ordered = [...REACTIONS.map(([key]) => key), ...Object.keys(reactions).filter((key) => !known.has(key)).sort()];
  const parts = ordered.filter((key) => (reactions[key] ?? 0) > 0).map((key) => `${known.get(key) ?? codeSpan(key)} ${reactions[key]}`);
  return parts.map((p) => ` · ${p}`).join('');
}

/** The day of an ISO time, as headers show it. */
export const day = (iso: string | null): string => (iso ? iso.slice(0, 10) : 'an unknown date');
