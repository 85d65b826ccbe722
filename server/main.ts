import { agentWorkFor } from './agent.ts';
import { serveOnNode } from './serve-node.ts';

// The LLM agent: planner, programmer and reviewer on a sandbox per session.
await serveOnNode(
  ({ config, profiles, store, secrets }) => agentWorkFor(config.agent, profiles, store, secrets),
  'LLM agent (planner, programmer, reviewer)',
  { requireProfile: true },
);
