/**
 * vigosrv's process exit codes. Supervisors and scripts rely on them; they are documented in
 * docs/exit-codes.md and never change meaning.
 */
export const exitCodes = {
  /** Clean stop after a drain. */
  ok: 0,
  /** An unexpected internal error. */
  internal: 70,
  /** The open-file limit cannot hold the enrolled fleet's held connections (checkin.connection: held). */
  openFileLimit: 71,
  /** The database could not be opened, a migration failed, or it is an empty file where a database was. */
  store: 74,
  /** `vigosrv restore` refused the archive or the target (its code names why); nothing was written. */
  restoreRefused: 65,
  /** The drain did not finish within shutdown.budget; the process stopped anyway. */
  shutdownBudgetExceeded: 75,
  /** A listen address is already in use (or cannot be bound). */
  portInUse: 76,
  /** Another vigosrv holds the data directory's lock. */
  dataDirLocked: 77,
  /** server.yaml, an environment variable or a flag is invalid. */
  config: 78,
  /** The PKI material (or the secrets vault) is missing, corrupt, or could not be created or loaded. */
  pki: 79,
  /** A second SIGINT/SIGTERM arrived during the drain: stopped at once. */
  forced: 130,
} as const;

export type ExitCodeName = keyof typeof exitCodes;
