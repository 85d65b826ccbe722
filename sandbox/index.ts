/** The sandbox's public surface: the port, the local adapter and the repository URL policy. */
export type {
  CommandOptions,
  CommandResult,
  FileEntry,
  Sandbox,
  SandboxProvider,
  SandboxSpec,
  SearchHit,
} from './port.ts';
export { createLocalSandboxProvider, type LocalSandboxOptions } from './local.ts';
export { checkRepoUrl, type RepoUrlPolicy } from './repo-url.ts';
export {
  OutputFeed,
  PROGRESS_LINES_PER_SECOND,
  PROGRESS_LINE_CHARS,
  type OutputFeedOptions,
} from './progress.ts';
