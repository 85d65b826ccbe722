import { agentWorkFor } from './agent.ts';
import { serveOnDeno } from './serve-deno.ts';

// The Deno entry (`deno task start`): the same LLM agent as server/main.ts, served by Deno.serve.
await serveOnDeno(
  ({ config, profiles, store, secrets }) => agentWorkFor(config.agent, profiles, store, secrets),
  'LLM agent (planner, programmer, reviewer)',
  { requireProfile: true },
);
