import { agentWorkFor } from './agent.ts';
import { serveOnNode } from './serve-node.ts';

// The LLM agent: planner, programmer and reviewer on a sandbox per session.
await serveOnNode(({ config, profiles }) => agentWorkFor(config.agent, profiles), 'LLM agent (planner, programmer, reviewer)');
