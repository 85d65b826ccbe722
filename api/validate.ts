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
