import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import type { UnpinRepoResult } from '../types.ts';

export const unpinCommand: Command<UnpinRepoResult> = {
  name: OPERATIONS.unpin.name,
  summary: OPERATIONS.unpin.summary,
  usage: 'unpin NAME [--repo R]',
  execute: ({ engine, positionals }) => {
    if (positionals.length !== 1) throw new UsageError('unpin takes exactly one snapshot name');
    return OPERATIONS.unpin.run(engine, parseInput(OPERATIONS.unpin, { snapshot: positionals[0] }));
  },
  render: (result) => renderOutcomes(result, (v) => [`${v.snapshot} unpinned (it was pinned: ${v.reason}); retention applies to it again`]),
};
