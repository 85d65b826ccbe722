import { formatBytes } from './disk-usage.ts';
import type { CommandResult } from './port.ts';
import { QUOTA_POLL_MS } from './local-options.ts';

/**
 * Runs a command under the workspace quota. The shell's file size limit
 * (`ulimit -f`, RLIMIT_FSIZE: a write past it fails with EFBIG, or kills the
 * writer with SIGXFSZ, "File size limit exceeded") is what is left of the
 * quota, so one huge file stops at once. A watchdog measures the workspace
 * every second and kills the command's group once it holds more than the
 * quota (many files). A last measurement tells the model when the command
 * ended over it. A command that starts over the quota may shrink the
 * workspace, not grow it: its files are held to one block, and the watchdog
 * kills it past the size it started with.
 */
export async function runWithinQuota(
  command: string,
  quota: number,
  measure: () => Promise<number>,
  run: (script: string, signal: AbortSignal) => Promise<CommandResult>,
): Promise<CommandResult> {
  const used = await measure();
  const limit = Math.max(quota, used);
  // 512-byte blocks (POSIX: dash, bash as sh, busybox), one more than what is left: a file
  // stopped by the limit leaves the workspace just over the quota, which the last measurement sees.
  const blocks = Math.floor(Math.max(0, quota - used) / 512) + 1;
  const over = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const watch = (delay: number) => {
    timer = setTimeout(() => {
      const t0 = performance.now();
      void measure().then((bytes) => {
        if (done) return;
        if (bytes > limit)
          over.abort(
            new Error(
              `the workspace grew past its limit of ${formatBytes(quota)} (SANDBOX_MAX_MB); delete what you do not need`,
            ),
          );
        else watch(Math.max(QUOTA_POLL_MS, 10 * (performance.now() - t0)));
      });
    }, delay);
  };
  watch(QUOTA_POLL_MS);
  let r: CommandResult;
  try {
    // On the command's own first line: the shell's line numbers in its errors stay the model's.
    r = await run(`ulimit -f ${blocks}; ${command}`, over.signal);
  } finally {
    done = true;
    clearTimeout(timer);
  }
  if (r.killed !== undefined || r.timedOut) return r;
  const limitText = `its limit of ${formatBytes(quota)} (SANDBOX_MAX_MB)`;
  if ((await measure()) > quota)
    return {
      ...r,
      killed: `the workspace is over ${limitText}: writes past it fail ("File too large"); delete what you do not need`,
    };
  // Deleting and writing in one command: the writes were held to the size the command started with.
  if (used > quota)
    return {
      ...r,
      killed: `the workspace was over ${limitText} when the command started, so no file it wrote could grow past 512 bytes; it is under the limit now`,
    };
  return r;
}

/** A byte count for a message: `3.2 MB`, `12.5 KB`, `300 bytes`. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}
