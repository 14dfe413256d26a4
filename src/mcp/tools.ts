// The MCP tools: each is an entry of the operations table (src/operations) under the tool name docs/MCP.md promises,
// with the table's schema plus a `repository` selector, and the CLI's text rendering as the result.
import { z } from 'zod';
import { diffCommand } from '../cli/diff.ts';
import { exportCommand } from '../cli/export.ts';
import { findCommand } from '../cli/find.ts';
import { listCommand } from '../cli/list.ts';
import { repositoriesCommand } from '../cli/repositories.ts';
import { restoreCommand } from '../cli/restore.ts';
import { snapshotCommand } from '../cli/snapshot.ts';
import { storeCommand } from '../cli/store.ts';
import { unpinCommand } from '../cli/unpin.ts';
import { renderStatus } from '../cli/status.ts';
import { verifyCommand } from '../cli/verify.ts';
import { OPERATIONS, type OperationName } from '../operations/index.ts';
import type { RunResult } from '../types.ts';

export const repositoryParameter = z
  .string()
  .min(1)
  .optional()
  .describe('work on this repository only: OWNER/NAME, a URL or a path (default: every configured repository, or all under the root)');

export interface ToolSpec {
  /** The tool name clients call (docs/MCP.md). */
  tool: string;
  operation: OperationName;
  /** MCP's defaults where they differ from the CLI's (restore is a dry run unless asked otherwise). */
  defaults?: Record<string, unknown>;
  /** Fields of the operation's input this tool does not offer. */
  omit?: string[];
  render(result: RunResult<never>): string;
}

const render = <R>(command: { render(result: R): string }) => command.render as (result: RunResult<never>) => string;

export const TOOLS: ToolSpec[] = [
  { tool: 'list_repositories', operation: 'repositories', render: render(repositoriesCommand) },
  { tool: 'status', operation: 'status', render: render({ render: renderStatus }) },
  { tool: 'list_snapshots', operation: 'list', render: render(listCommand) },
  { tool: 'snapshot', operation: 'snapshot', render: render(snapshotCommand) },
  { tool: 'verify', operation: 'verify', render: render(verifyCommand) },
  // An archive on the server's disk or a store restore are for an operator at a shell; a client names a snapshot.
  { tool: 'restore', operation: 'restore', defaults: { dryRun: true }, omit: ['fromArchive', 'fromStore'], render: render(restoreCommand) },
  { tool: 'export', operation: 'export', render: render(exportCommand) },
  { tool: 'diff_snapshots', operation: 'diff', render: render(diffCommand) },
  { tool: 'find', operation: 'find', render: render(findCommand) },
  { tool: 'store_list', operation: 'store list', render: render(storeCommand) },
  { tool: 'store_verify', operation: 'store verify', render: render(storeCommand) },
  // Destructive: refused unless the server was started with --allow-write (policy.ts).
  { tool: 'unpin', operation: 'unpin', render: render(unpinCommand) },
  { tool: 'store_prune', operation: 'store prune', render: render(storeCommand) },
];

/** The tool's input shape: the operation's fields (less those omitted) and `repository`. */
export function toolShape(spec: ToolSpec): z.ZodRawShape {
  const fields = Object.entries((OPERATIONS[spec.operation].input as unknown as z.ZodObject).shape).filter(([field]) => !spec.omit?.includes(field));
  const shape: Record<string, z.ZodType> = Object.fromEntries(fields);
  if (spec.defaults && 'dryRun' in spec.defaults) shape.dryRun = z.boolean().optional().describe('say what would be restored and change nothing (default true)');
  return { repository: repositoryParameter, ...shape };
}

/** The operation's summary, and what the tool does differently from the CLI command. */
export function toolDescription(spec: ToolSpec): string {
  const op = OPERATIONS[spec.operation];
  const notes =
    spec.tool === 'restore'
      ? ' A dry run unless dryRun is false; without --allow-write only to a new directory or an empty remote.'
      : op.destructive
        ? ' Refused unless the server was started with --allow-write.'
        : '';
  return `${op.summary}.${notes}`;
}

