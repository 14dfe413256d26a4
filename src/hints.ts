// What a user can do about an error, by code: the engine names the code, each face words it (docs/ARCHITECTURE.md
// "Faces"). The CLI speaks of flags, the action of its inputs, the MCP server of tool parameters.
export const HINT_CODES = ['name-repositories', 'pick-one-repository', 'pin-reason'] as const;
export type HintCode = (typeof HINT_CODES)[number];

export type Face = 'cli' | 'action' | 'mcp';

const HINTS: Record<HintCode, Record<Face, string>> = {
  'name-repositories': {
    cli: 'pass --repo OWNER/NAME|URL|PATH or --config FILE with a repositories list',
    action: 'set the "repositories" input or a "config" file that lists some',
    mcp: 'pass the "repository" parameter (OWNER/NAME, a URL or a path) or start the server with --config FILE',
  },
  'pick-one-repository': {
    cli: 'pick one with --repo',
    action: 'list one repository in the "repositories" input',
    mcp: 'name one in the "repository" parameter',
  },
  'pin-reason': {
    cli: 'give one with --reason TEXT',
    action: 'the action does not pin; use the CLI or the MCP server',
    mcp: 'give one in the "reason" parameter',
  },
};

export function renderHint(code: HintCode, face: Face): string {
  return HINTS[code][face];
}

/** The message a face shows for an error: the engine's words, then what to do, in that face's terms. */
export function withHint(message: string, hint: HintCode | undefined, face: Face): string {
  return hint ? `${message}: ${renderHint(hint, face)}` : message;
}
