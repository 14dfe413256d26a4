// What the MCP server refuses unless started with --allow-write (docs/MCP.md "Read-only by default"). Pure: the
// server asks before running anything.
export interface RestoreRequest {
  to?: string;
  push?: string;
  force?: boolean;
  dryRun?: boolean;
  metadataTo?: string;
}

/** Why a restore may not run on a read-only server, or undefined when it may. */
export function restoreRefusal(request: RestoreRequest, allowWrite: boolean): string | undefined {
  if (allowWrite || request.dryRun) return undefined;
  if (request.metadataTo) return 'restore of the metadata creates issues, pull requests and releases in GitHub, and this server is read-only';
  if (!request.to && !request.push) return 'restore in place replaces the live mirror, and this server is read-only';
  if (request.force) return 'restore with force replaces a non-empty directory or remote, and this server is read-only';
  return undefined;
}

export const READ_ONLY_HINT = 'to do this, restart the MCP server with --allow-write (docs/MCP.md), or restore to a new directory or an empty remote';
export const WRITE_HINT = 'to do this, restart the MCP server with --allow-write (docs/MCP.md)';

export interface ToolCall {
  tool: string;
  /** The operation's own marking (src/operations). */
  destructive: boolean;
  input: Record<string, unknown>;
}

/**
 * Why a tool call may not run on this server, with the hint that goes with it, or undefined when it may. restore is
 * weighed by what it would replace; every other destructive operation (unpin) needs --allow-write outright.
 */
export function callRefusal(call: ToolCall, allowWrite: boolean): string | undefined {
  if (call.tool === 'restore') {
    const refusal = restoreRefusal(call.input, allowWrite);
    // Into GitHub there is no harmless alternative to offer: only --allow-write.
    return refusal && `${refusal}: ${call.input.metadataTo ? WRITE_HINT : READ_ONLY_HINT}`;
  }
  if (call.destructive && !allowWrite) return `${call.tool} is destructive and this server is read-only: ${WRITE_HINT}`;
  return undefined;
}
