/** Reads the process environment on Node and on Deno through one function. */
export function readEnv(): Record<string, string | undefined> {
  const g = globalThis as { Deno?: { env: { toObject(): Record<string, string> } }; process?: { env: Record<string, string | undefined> } };
  if (g.Deno) return g.Deno.env.toObject();
  return g.process?.env ?? {};
}
