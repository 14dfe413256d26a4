// Entry point of the backup action: everything happens in run().
import { redactDebugOutput } from '../../../src/debug-redact.ts';
import { run } from './run.ts';

redactDebugOutput();
await run();
