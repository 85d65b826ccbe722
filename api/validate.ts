import type { MiddlewareHandler } from 'hono';
import { checkRepoUrl, type RepoUrlPolicy } from '../sandbox/repo-url.ts';
import { badRequest } from '../kernel/errors.ts';

/**
 * The repository-URL policy, after the schema (`api/schemas/`) has checked
 * the string: it depends on the server's configuration (local repositories).
 * The sandbox's own rules, so a URL accepted here is one a sandbox will clone.
 */
export function repoUrl(url: string, policy: RepoUrlPolicy = { allowLocalRepos: false }): string {
  try {
    return checkRepoUrl(url, policy);
  } catch (err) {
    // One code for every invalid field at the API, whoever checked it.
    throw badRequest((err as Error).message, 'repo_url');
  }
}

/** Session ids are ULIDs: 26 characters of Crockford's base32. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/**
 * Refuses a session id that is not a ULID before any route reads the store:
 * an id is part of the store's keys (on Redis inside a `{…}` hash tag, where
 * a `}` would name another slot), so a malformed one never gets that far.
 */
export const sessionIdParam: MiddlewareHandler = async (c, next) => {
  const id = c.req.param('id') ?? '';
  if (!ULID.test(id)) {
    throw badRequest(
      `session id ${JSON.stringify(id.slice(0, 64))} is not a session id (a ULID: 26 letters and digits, as POST /agent/sessions returns)`,
      'id',
    );
  }
  return next();
};
