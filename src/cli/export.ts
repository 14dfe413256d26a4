import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import { UsageError } from '../errors.ts';
import type { ExportRepoResult } from '../types.ts';

export const exportCommand: Command<ExportRepoResult> = {
  name: OPERATIONS.export.name,
  summary: OPERATIONS.export.summary,
  usage: 'export [latest|NAME] [--format tar.gz] [--output FILE]',
  help: `  --format tar.gz    archive format (the only one)
  --output FILE      where to write (default archives/<owner>/<repo>/<snapshot>.tar.gz under the root)`,
  options: { format: { type: 'string' }, output: { type: 'string' } },
  execute: ({ engine, values, positionals }) => {
    if (positionals.length > 1) throw new UsageError('export takes at most one snapshot name');
    return OPERATIONS.export.run(engine, parseInput(OPERATIONS.export, { snapshot: positionals[0], format: values.format, output: values.output }));
  },
  render: (result) => renderOutcomes(result, (v) => [`${v.snapshot} -> ${v.archive} (${formatBytes(v.sizeBytes)})`, `sha256 ${v.sha256}`]),
};
