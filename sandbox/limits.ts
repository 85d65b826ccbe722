/**
 * Resource limits per sandbox command (rlimits through util-linux `prlimit`,
 * set on the command's shell and inherited by everything it starts), and the
 * words that tell the model when one of them ended its command.
 *
 * rlimits are per process, not per command: `processes` (RLIMIT_NPROC) is
 * counted per user in the command's user namespace, so under bubblewrap or
 * namespaces it bounds the command's own process tree; `memoryBytes`
 * (RLIMIT_DATA: a process's heap and private writable mappings, the memory it
 * can actually fill; RLIMIT_AS would also count the address space V8 and the
 * JVM reserve without using, and break them) and `cpuSeconds` (RLIMIT_CPU)
 * hold each process. The kernel exempts root from RLIMIT_NPROC: a service
 * running as root gets the other limits only (sandbox/README.md).
 */

export interface CommandLimits {
  /** Most bytes of heap and private writable memory a process may hold (SANDBOX_MEMORY_MB); 0: none. */
  memoryBytes: number;
  /** Most processes (and threads) the command may run at once (SANDBOX_MAX_PROCESSES); 0: none. */
  processes: number;
  /** Most CPU seconds any one process may use (SANDBOX_CPU_SECONDS); 0: none. */
  cpuSeconds: number;
}

export const DEFAULT_LIMITS: CommandLimits = {
  memoryBytes: 4096 * 1024 * 1024,
  processes: 1024,
  cpuSeconds: 1800,
};

export const NO_LIMITS: CommandLimits = { memoryBytes: 0, processes: 0, cpuSeconds: 0 };

/** SIGXCPU arrives at the soft CPU limit; SIGKILL this many seconds later for a process that ignores it. */
const CPU_GRACE_SECONDS = 5;

/** The `prlimit … --` prefix for `limits`, or nothing when none is set. */
export function limitArgv(limits: CommandLimits | undefined): string[] {
  if (limits === undefined) return [];
  const args: string[] = [];
  if (limits.memoryBytes > 0) args.push(`--data=${limits.memoryBytes}`);
  if (limits.processes > 0) args.push(`--nproc=${limits.processes}`);
  if (limits.cpuSeconds > 0)
    args.push(`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + CPU_GRACE_SECONDS}`);
  if (args.length === 0) return [];
  // No core files: a crash must not write the process's memory into the workspace.
  return ['prlimit', ...args, '--core=0', '--'];
}

const SIGXCPU = 24;
const SIGKILL = 9;
const SIGSEGV = 11;
const SIGABRT = 6;

/**
 * Which limit most likely ended a command, in words for the model, or
 * undefined. The shell's exit code (128 + signal) and the command's output
 * say it: SIGXCPU is the CPU limit; a failed fork ("Cannot fork",
 * "Resource temporarily unavailable") the process limit; an allocation that
 * failed ("Cannot allocate memory", "out of memory", `MemoryError`,
 * `std::bad_alloc`), or a crash (SIGSEGV, SIGABRT) with memory near its limit,
 * the memory limit.
 */
export function limitHit(
  exitCode: number | null,
  output: string,
  limits: CommandLimits | undefined,
): string | undefined {
  if (limits === undefined || exitCode === null || exitCode === 0) return undefined;
  const signal = exitCode > 128 ? exitCode - 128 : 0;
  if (
    limits.cpuSeconds > 0 &&
    (signal === SIGXCPU || (signal === SIGKILL && /CPU time limit/i.test(output)))
  )
    return `a process used its CPU time limit of ${limits.cpuSeconds} s (SANDBOX_CPU_SECONDS) and was killed; make it do less work per process, or split it`;
  if (
    limits.processes > 0 &&
    /Cannot fork|fork: Resource temporarily unavailable|fork failed|EAGAIN.*(?:spawn|fork)|can't fork|Resource temporarily unavailable/i.test(
      output,
    )
  )
    return `the command could not start a process: at most ${limits.processes} processes and threads may run at once (SANDBOX_MAX_PROCESSES); run fewer in parallel`;
  if (
    limits.memoryBytes > 0 &&
    (/Cannot allocate memory|out of memory|MemoryError|bad_alloc|ENOMEM|heap limit|allocation failed/i.test(
      output,
    ) ||
      signal === SIGSEGV ||
      signal === SIGABRT)
  )
    return `a process may have run out of memory: each may hold at most ${Math.round(limits.memoryBytes / (1024 * 1024))} MB (SANDBOX_MEMORY_MB); use less (smaller inputs, fewer workers)`;
  return undefined;
}
