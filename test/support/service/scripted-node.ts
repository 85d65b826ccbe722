import { serveOnNode } from '../../../server/serve-node.ts';
import { scriptedWork } from '../fake-work.ts';

// A real node process with the scripted agent, for multi-node tests and benchmarks.
const delayMs = Number(process.env['SCRIPTED_DELAY_MS'] ?? '0');
await serveOnNode(scriptedWork({ delayMs }), `scripted (delay ${delayMs} ms)`);
