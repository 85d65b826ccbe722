/**
 * What an event carried, made safe to show in a session's history: no
 * secrets (fields whose names look secret are dropped), nothing big (strings
 * cut, a diff reduced to its size, nested values summarised). The timeline of
 * the visualizer shows it; the full data stays where it lives (the result,
 * the transcripts, the inbox).
 */
const SECRET = /(key|token|secret|password|authorization)/i;
const MAX_STRING = 200;
const MAX_JSON = 800;

function cut(s: string): string {
  return s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}… (${s.length} characters)` : s;
}

/** One level deep: scalars kept (strings cut), arrays and objects summarised. */
function brief(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return cut(v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v))
    return depth > 0
      ? v
          .slice(0, 5)
          .map((x) => brief(x, depth - 1))
          .concat(v.length > 5 ? [`… ${v.length - 5} more`] : [])
      : `[${v.length} items]`;
  if (typeof v === 'object') {
    if (depth <= 0)
      return `{${Object.keys(v as object)
        .slice(0, 6)
        .join(', ')}}`;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (SECRET.test(k)) continue;
      // A diff or file content is data, not an event's gist: its size says enough.
      out[k] =
        (k === 'diff' || k === 'content') && typeof x === 'string'
          ? `(${x.length} characters)`
          : brief(x, depth - 1);
    }
    return out;
  }
  return undefined;
}

/** The payload of a machine event for its history entry; undefined when there is nothing to show. */
export function historyPayload(
  event: { type: string } & Record<string, unknown>,
): Record<string, unknown> | undefined {
  const { type: _type, eventId: _id, ...rest } = event;
  // XState's own events: `output` of done work, `error` of failed work.
  if ('error' in rest)
    rest['error'] = rest['error'] instanceof Error ? cut(rest['error'].message) : rest['error'];
  if (Object.keys(rest).length === 0) return undefined;
  let out = brief(rest, 3) as Record<string, unknown>;
  if (JSON.stringify(out).length > MAX_JSON) out = brief(rest, 2) as Record<string, unknown>;
  if (JSON.stringify(out).length > MAX_JSON) out = brief(rest, 1) as Record<string, unknown>;
  if (JSON.stringify(out).length > MAX_JSON) out = { summary: cut(JSON.stringify(out)) };
  return Object.keys(out).length ? out : undefined;
}
