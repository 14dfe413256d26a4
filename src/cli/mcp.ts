// `backup-manager mcp`: serves the Model Context Protocol on stdin/stdout until the client closes it (docs/MCP.md).
// stdout is the protocol's: logs, progress and the final line go to stderr.
import { resolveSettings } from '../config.ts';
import { ExitCode } from '../errors.ts';
import { Redactor } from '../redact.ts';
import type { Command } from './command.ts';
import { overridesFrom } from './options.ts';

export const mcpCommand: Command<never> = {
  name: 'mcp',
  summary: 'serve the Model Context Protocol over stdio: status, snapshots, verify, restore and export as tools',
  usage: 'mcp [--root DIR] [--config FILE] [--allow-write]',
  help: `  --allow-write      allow restore in place and restore with force (otherwise restore only to a new
                     directory or an empty remote; restore is a dry run unless dryRun is false)
  stdout carries the protocol; logs go to stderr. Client configuration: docs/MCP.md.`,
  options: { 'allow-write': { type: 'boolean' } },
  ownsStdout: true,
  async execute({ settings, env, values, signal, progress }) {
    const startedAt = new Date().toISOString();
    const redactor = new Redactor();
    redactor.add(settings.token);
    redactor.add(settings.githubApp?.privateKey);
    // The MCP SDK is loaded by this command only: every other command starts without it.
    const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([import('../mcp/server.ts'), import('@modelcontextprotocol/sdk/server/stdio.js')]);
    const server = createMcpServer({
      settingsFor: (repository) => resolveSettings({ ...overridesFrom(values), repositories: repository ? [repository] : (values.repo as string[] | undefined) }, env),
      allowWrite: Boolean(values['allow-write']),
      logger: { log: (level, line) => (level === 'warn' || level === 'error' || values.verbose ? progress(line) : undefined) },
      redactor,
      signal,
    });
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
      process.stdin.once('end', () => resolve());
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.connect(transport);
    progress(`mcp: serving ${settings.root} over stdio${values['allow-write'] ? ' (writes allowed)' : ' (read-only: restore only to a new directory or an empty remote)'}`);
    await closed;
    await server.close();
    return { command: 'mcp', startedAt, finishedAt: new Date().toISOString(), outcomes: [], failed: [], exitCode: signal.aborted ? ExitCode.INTERRUPTED : ExitCode.OK };
  },
  render: (result) => `mcp: stopped (served from ${result.startedAt} to ${result.finishedAt})`,
};
