import { checkRepoUrl, type RepoUrlPolicy } from '../sandbox/repo-url.ts';
import { badRequest } from '../runtime/errors.ts';

/** Small field validators: each error names the field and the problem. */
export function rejectUnknown(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`unknown field (allowed: ${allowed.join(', ')})`, key);
  }
}

export function requiredString(body: Record<string, unknown>, field: string, max: number): string {
  const v = body[field];
  if (v === undefined || v === null) throw badRequest(`${field} is required`, field);
  return checkString(v, field, max);
}

export function optionalString(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const v = body[field];
  return v === undefined || v === null ? undefined : checkString(v, field, max);
}

export function oneOf<T extends string>(body: Record<string, unknown>, field: string, values: readonly T[], fallback: T): T {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !values.includes(v as T)) throw badRequest(`${field} must be one of: ${values.join(', ')}`, field);
  return v as T;
}

function checkString(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`, field);
  if (v.trim().length === 0) throw badRequest(`${field} must not be empty`, field);
  if (v.length > max) throw badRequest(`${field} must be at most ${max} characters`, field);
  // Control characters other than tab/newline have no place in goals or URLs.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v)) throw badRequest(`${field} contains control characters`, field);
  return v;
}

/** Accepts https/http, ssh and scp-style git URLs; the agent checks reachability when it clones. */
/** The sandbox's own rules, so a URL accepted here is one a sandbox will clone. */
export function repoUrl(body: Record<string, unknown>, policy: RepoUrlPolicy = { allowLocalRepos: false }): string {
  const url = requiredString(body, 'repo_url', 2048);
  try {
    return checkRepoUrl(url, policy);
  } catch (err) {
    // One code for every invalid field at the API, whoever checked it.
    throw badRequest((err as Error).message, 'repo_url');
  }
}

/** `budget: {max_calls?, max_tokens?}` (positive integers), as the agent's limits; undefined when absent. */
export function budget(body: Record<string, unknown>): { maxCalls?: number; maxTokens?: number } | undefined {
  const v = body['budget'];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('budget must be an object like {"max_calls": 100, "max_tokens": 500000}', 'budget');
  const b = v as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (k !== 'max_calls' && k !== 'max_tokens') throw badRequest(`budget.${k} is not a known field (known: max_calls, max_tokens)`, `budget.${k}`);
  }
  const int = (k: 'max_calls' | 'max_tokens', max: number) => {
    const x = b[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max) throw badRequest(`budget.${k} must be an integer from 1 to ${max}`, `budget.${k}`);
    return x;
  };
  const maxCalls = int('max_calls', 1_000_000);
  const maxTokens = int('max_tokens', 1_000_000_000);
  return { ...(maxCalls !== undefined ? { maxCalls } : {}), ...(maxTokens !== undefined ? { maxTokens } : {}) };
}
