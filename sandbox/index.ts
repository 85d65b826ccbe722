/** The sandbox's public surface: the port, the local adapter and the repository URL policy. */
export type { CommandResult, FileEntry, Sandbox, SandboxProvider, SandboxSpec, SearchHit } from './port.ts';
export { createLocalSandboxProvider, type LocalSandboxOptions } from './local.ts';
export { checkRepoUrl, type RepoUrlPolicy } from './repo-url.ts';
