import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import { UsageError } from '../errors.ts';
import type { ExportRepoResult } from '../types.ts';

export const exportCommand: Command<ExportRepoResult> = {
  name: OPERATIONS.export.name,
  summary: OPERATIONS.export.summary,
  usage: 'export [latest|NAME] [--format tar.gz] [--output FILE] [--force]',
  help: `  --format tar.gz    archive format (the only one)
  --output FILE      where to write (default archives/<owner>/<repo>/<snapshot>.tar.gz under the root)
                     An archive already there whose .sha256 verifies is kept as it is (exit 0).
  --force            replace an archive there that does not verify (the old one is kept beside it)`,
  options: { format: { type: 'string' }, output: { type: 'string' }, force: { type: 'boolean' } },
  execute: ({ engine, values, positionals }) => {
    if (positionals.length > 1) throw new UsageError('export takes at most one snapshot name');
    return OPERATIONS.export.run(engine, parseInput(OPERATIONS.export, { snapshot: positionals[0], format: values.format, output: values.output, force: Boolean(values.force) }));
  },
  render: (result) =>
    renderOutcomes(result, (v) => [`${v.snapshot} -> ${v.archive} (${formatBytes(v.sizeBytes)}${v.alreadyExported ? ', already exported: its checksum verifies' : ''})`, `sha256 ${v.sha256}`]),
};
