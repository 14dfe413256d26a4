import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import type { DiffRepoResult } from '../types.ts';

const short = (oid: string) => oid.slice(0, 12);

function describe(v: DiffRepoResult): string[] {
  return [
    `${v.from} -> ${v.to}: ${v.added.length} added, ${v.deleted.length} deleted, ${v.moved.length} moved, ${v.forceMoved.length} force-moved, ${v.unchanged} unchanged${v.unfetched.length ? `, ${v.unfetched.length} moved to commits not fetched yet` : ''}`,
    ...v.added.map((r) => `+ ${r.ref}  ${short(r.to)}`),
    ...v.deleted.map((r) => `- ${r.ref}  was ${short(r.from)}`),
    ...v.moved.map((r) => `> ${r.ref}  ${short(r.from)}..${short(r.to)}`),
    ...v.forceMoved.map((r) => `! ${r.ref}  ${short(r.from)}...${short(r.to)} (force-moved: ${short(r.from)} is not in the new history)`),
    ...v.unfetched.map((r) => `? ${r.ref}  ${short(r.from)}..${short(r.to)} (not fetched yet: a sync tells a fast-forward from a rewrite)`),
  ];
}

export const diffCommand: Command<DiffRepoResult> = {
  name: OPERATIONS.diff.name,
  summary: OPERATIONS.diff.summary,
  usage: 'diff A [B] [--repo R] [--json]',
  help: `  A, B               "latest", a snapshot name, "mirror", or "upstream" (its refs now, by git ls-remote with
                     the credentials a fetch uses; nothing is fetched). B defaults to mirror
  lines: + added, - deleted, > moved (fast-forward), ! force-moved (history rewritten),
         ? moved upstream to a commit the mirror has not fetched yet`,
  execute: ({ engine, positionals }) => {
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('diff takes one or two of: latest, a snapshot name, mirror, upstream');
    return OPERATIONS.diff.run(engine, parseInput(OPERATIONS.diff, { from: positionals[0], to: positionals[1] }));
  },
  render: (result) => renderOutcomes(result, describe),
};
