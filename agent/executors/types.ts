/**
 * The contract between the apply engine and the executors. An executor owns one resource type: it
 * checks the current state, acts only on drift, and verifies the result, so running it twice changes
 * nothing the second time. Parameters arrive fully rendered and schema-checked
 * (server/policy resourceSchemas[type]) with secret markers already resolved.
 */

/**
 * What applying one resource did. The engine adds blocked itself, and skipped for `when:` and
 * notifications; an executor reports skipped when the thing it manages does not exist on this host
 * (selinux where SELinux is absent).
 */
export type ExecutorOutcome = 'none' | 'created' | 'updated' | 'deleted' | 'skipped' | 'failed';

export interface ExecutorResult {
  readonly outcome: ExecutorOutcome;
  /** For a person: what changed ("mode 0600 -> 0644"), or why it failed. Never contains secret values. */
  readonly message: string;
}

export interface CommandOptions {
  readonly cwd?: string;
  /** Replaces the environment entirely when given (PATH is added when missing). */
  readonly env?: Readonly<Record<string, string>>;
  readonly uid?: number;
  readonly gid?: number;
  /** Killed (SIGKILL to its process group) when it runs longer; 0 or absent = no limit. */
  readonly timeoutMs?: number;
  /** Written to the program's stdin, then stdin is closed. */
  readonly input?: string;
}

export interface CommandResult {
  /** null when killed by a signal or on timeout. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a program directly (no shell). A program that cannot be started gives exitCode 127. */
export type CommandRunner = (
  file: string,
  args: readonly string[],
  options?: CommandOptions,
) => Promise<CommandResult>;

export interface ExecutorContext {
  /** Observe mode: report the would-be outcome ("would create …"), change nothing. */
  readonly dryRun: boolean;
  readonly run: CommandRunner;
  /** Copies a file about to be changed or deleted into the agent's snapshot store (the last 5 are kept). */
  snapshotFile(path: string): Promise<void>;
  /** Where `custom` executors live: `<dir>/<executor name>` must be an executable. */
  readonly customExecutorDir: string;
  /** Aborted when the agent shuts down; long operations stop early. */
  readonly signal: AbortSignal;
  /**
   * Observe mode only: whether an earlier resource of this run would have created directory `dir`.
   * A file in a directory that is not there yet is then a would-be change, not a failure.
   */
  readonly wouldCreateDir?: (dir: string) => boolean;
}

export interface Executor {
  readonly type: string;
  apply(params: Readonly<Record<string, unknown>>, ctx: ExecutorContext): Promise<ExecutorResult>;
}
