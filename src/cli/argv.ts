// What was wrong with a command line, in a user's words: the unknown option and the closest real one, instead of
// parseArgs' advice about positional arguments.
import type { OptionSpec } from './command.ts';

/** Edit distance, small strings only (option names). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The option among `known` a typo most likely meant, or null when none is close. */
export function closestOption(typed: string, known: string[]): string | null {
  let best: { name: string; d: number } | null = null;
  for (const name of known) {
    const d = name.startsWith(typed) || typed.startsWith(name) ? 1 : distance(typed, name);
    if (d <= Math.max(2, Math.floor(typed.length / 4)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name ?? null;
}

/** The first option in `argv` that `options` does not declare, as typed (without any =value). */
export function firstUnknownOption(argv: string[], options: OptionSpec): string | null {
  const shorts = new Set(Object.values(options).map((o) => o.short).filter(Boolean));
  for (const arg of argv) {
    if (arg === '--') return null;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0]!;
      if (!(name in options)) return `--${name}`;
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (const letter of arg.slice(1)) if (!shorts.has(letter)) return `-${letter}`;
    }
  }
  return null;
}

/** "unknown option --dryrun (did you mean --dry-run?)" */
export function unknownOptionMessage(option: string, options: OptionSpec): string {
  const suggestion = option.startsWith('--') ? closestOption(option.slice(2), Object.keys(options)) : null;
  return `unknown option ${option}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`;
}
