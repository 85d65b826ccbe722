import { serveOnNode } from './serve-node.ts';
import { unconfiguredWork } from './work.ts';

// The LLM agent (planner, programmer, reviewer) plugs in here once it exists;
// until then sessions fail at their first step with a reason that says so.
await serveOnNode(unconfiguredWork, 'none (LLM agent not available yet)');
