// With DEBUG=backup-manager:* (the verbose logging people turn on when a backup fails), the git executor
// (src/git/spawn.ts) prints through the `debug` library, and its lines include the child's environment: our
// Authorization header among it. Every entry point (CLI, actions, daemon, each engine) installs this, so debug
// output is redacted like the rest and is safe to share (docs/OPERATIONS.md, "Debug output"). The bundles resolve
// one copy of `debug` for us and for any dependency that logs through it (scripts/build.mjs).
import createDebug from 'debug';
import { formatWithOptions, type InspectOptions } from 'node:util';
import { redactEverySecret } from './redact.ts';

let installed = false;

/** Route every `debug` line of this process through the redactor; idempotent. */
export function redactDebugOutput(): void {
  if (installed) return;
  installed = true;
  // debug's own default, with the redaction added: instances without a `log` of their own look this up per call.
  createDebug.log = (...args: unknown[]) => {
    process.stderr.write(`${redactEverySecret(formatWithOptions((createDebug.inspectOpts ?? {}) as InspectOptions, ...args))}\n`);
  };
}
