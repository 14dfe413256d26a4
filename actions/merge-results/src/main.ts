// Entry point of the merge-results action: everything happens in run().
import { redactDebugOutput } from '../../../src/debug-redact.ts';
import { run } from './run.ts';

redactDebugOutput();
await run();
