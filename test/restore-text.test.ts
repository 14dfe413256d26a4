// The words restore --metadata-to puts in a header (src/github-metadata/restore-text.ts, docs/METADATA_FORMAT.md
// "What a restored record says"): authors named without a mention, anything that is not a login kept out of the
// markup, reaction counts in GitHub's order.
import { describe, expect, it } from 'vitest';
import { authorName, codeSpan, reactionSummary } from '../src/github-metadata/restore-text.ts';

describe('restore headers', () => {
  it('names a login by a link to its profile, without the @ that would notify it', () => {
    expect(authorName('alice', 'https://github.com')).toBe('[alice](https://github.com/alice)');
    expect(authorName('alice', 'https://ghe.example/')).toBe('[alice](https://ghe.example/alice)');
    // An Enterprise Managed User: the underscore cannot start emphasis in the link text.
    expect(authorName('octo_acme', 'https://github.com')).toBe('[octo\\_acme](https://github.com/octo_acme)');
    expect(authorName(null, 'https://github.com')).toBe('a deleted account');
  });

  it('shows what is not a login in a code span that nothing in it can close', () => {
    expect(authorName('mallory"><svg onload=alert(4)>', 'https://github.com')).toBe('`mallory"><svg onload=alert(4)>`');
    expect(authorName('@bob](https://evil.example)', 'https://github.com')).toBe('`@bob](https://evil.example)`');
    expect(codeSpan('a `b` c')).toBe('``a `b` c``');
    expect(codeSpan('`edge`')).toBe('`` `edge` ``');
    expect(codeSpan('two\nlines')).toBe('`two lines`');
  });

  it('puts reaction counts in GitHub order, unknown ones after, zeros left out', () => {
    expect(reactionSummary({ heart: 1, '+1': 3, eyes: 0, hooray: 2 })).toBe(' · 👍 3 · 🎉 2 · ❤️ 1');
    expect(reactionSummary({ zzz: 1, '-1': 1 })).toBe(' · 👎 1 · `zzz` 1');
    expect(reactionSummary({})).toBe('');
    expect(reactionSummary(undefined)).toBe('');
  });
});
