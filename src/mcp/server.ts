// The MCP server (docs/MCP.md): the operations table's tools over one transport, snapshot manifests as resources.
// Every call gets a fresh engine for the repository it names; nothing is printed but through the Redactor.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { BackupSettings } from '../config.ts';
import { createEngine } from '../engine/index.ts';
import type { Engine } from '../engine/api.ts';
import { errorMessage, hintOf, UsageError } from '../errors.ts';
import { withHint } from '../hints.ts';
import { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import { readMetadata } from '../metadata.ts';
import { isSnapshotName, isValidOwner, isValidRepoName } from '../naming.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import type { Redactor } from '../redact.ts';
import { TOOL_VERSION } from '../version.ts';
import { callRefusal } from './policy.ts';
import { toolDescription, toolShape, TOOLS, type ToolSpec } from './tools.ts';

export interface McpServerOptions {
  /** Settings for a call: the server's (--root, --config), with `repository` replacing the configured list. */
  settingsFor(repository: string | undefined): BackupSettings;
  allowWrite: boolean;
  logger: Logger;
  redactor: Redactor;
  signal?: AbortSignal;
}

const MANIFEST_URI = 'backup://{owner}/{repo}/snapshots/{snapshot}/snapshot.json';

function text(redactor: Redactor, body: string, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: redactor.redact(body) }], ...(isError ? { isError: true } : {}) };
}

/** A thrown engine error, worded as the CLI words it, with the hint in MCP's terms (a parameter, not a flag). */
function failure(redactor: Redactor, error: unknown): CallToolResult {
  return text(redactor, withHint(errorMessage(error), hintOf(error), 'mcp'), true);
}

export function createMcpServer(options: McpServerOptions): McpServer {
  const { redactor } = options;
  const server = new McpServer({ name: 'github-private-backup', version: TOOL_VERSION }, { capabilities: { logging: {} } });
  const engineFor = (repository: string | undefined): Engine =>
    createEngine({ settings: options.settingsFor(repository), logger: options.logger, signal: options.signal });

  const register = (spec: ToolSpec) => {
    const operation = OPERATIONS[spec.operation];
    server.registerTool(
      spec.tool,
      {
        description: toolDescription(spec),
        inputSchema: toolShape(spec),
        annotations: { readOnlyHint: operation.readOnly, destructiveHint: operation.destructive, openWorldHint: operation.openWorld },
      },
      async (args: Record<string, unknown>) => {
        try {
          const { repository, ...rest } = args as { repository?: string } & Record<string, unknown>;
          const input = parseInput(operation, { ...spec.defaults, ...rest }) as Record<string, unknown>;
          const refusal = callRefusal({ tool: spec.tool, destructive: operation.destructive, input }, options.allowWrite);
          if (refusal) return text(redactor, refusal, true);
          const result = await (operation.run as (engine: Engine, input: unknown) => ReturnType<typeof operation.run>)(engineFor(repository), input);
          const body = spec.render(result as never);
          return { ...text(redactor, body, result.exitCode !== 0), structuredContent: redactor.redactDeep(result) as unknown as Record<string, unknown> };
        } catch (error) {
          return failure(redactor, error);
        }
      },
    );
  };
  for (const spec of TOOLS) register(spec);

  server.registerResource(
    'snapshot-manifest',
    new ResourceTemplate(MANIFEST_URI, {
      list: async () => {
        const result = await OPERATIONS.list.run(engineFor(undefined), {});
        const resources = result.outcomes.flatMap((o) =>
          o.ok
            ? o.value.snapshots.map((s) => ({
                uri: `backup://${o.repo}/snapshots/${s.name}/snapshot.json`,
                name: `${o.repo} ${s.name}`,
                mimeType: 'application/json',
              }))
            : [],
        );
        return { resources };
      },
    }),
    { description: "a snapshot's snapshot.json: refs, HEAD, counts, sizes and every file's sha256", mimeType: 'application/json' },
    async (uri, variables) => {
      const [owner, repo, snapshot] = [variables.owner, variables.repo, variables.snapshot].map((v) => (Array.isArray(v) ? v[0] : v) ?? '');
      if (!isValidOwner(owner!) || !isValidRepoName(repo!) || !isSnapshotName(snapshot!)) throw new UsageError(`not a snapshot manifest: ${uri.href}`);
      const layout = new Layout(options.settingsFor(undefined).root);
      const metadata = await readMetadata(layout.snapshot({ owner: owner!, name: repo! }, snapshot!));
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: redactor.redact(JSON.stringify(metadata, null, 2)) }] };
    },
  );
  return server;
}
