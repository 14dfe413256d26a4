import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import type { InitRepoResult } from '../types.ts';

export const initCommand: Command<InitRepoResult> = {
  name: 'init',
  summary: 'create the bare mirror of each repository (a no-op for those already initialized)',
  usage: 'init [--repo R]... [--config FILE]',
  execute: ({ engine }) => engine.init(),
  render: (result) =>
    renderOutcomes(result, (v) => [v.created ? `mirror created with ${v.refCount} refs` : `already initialized (${v.refCount} refs), nothing to do`, v.mirror]),
};
