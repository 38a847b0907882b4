/**
 * One error hierarchy for the whole server. Every failure a caller can see has a stable code from
 * `errorCatalog`; each code declares its kind, and each transport maps kinds exhaustively
 * (`Record<ErrorKind, …>`), so adding a code never needs a transport change and adding a kind
 * does not compile until every transport maps it.
 */

export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition'
  | 'exhausted'
  | 'too_large'
  | 'unavailable'
  | 'internal';

/** Stable error codes: never renamed once released; operators and scripts match on them. */
export const errorCatalog = {
  // generic
  'request.invalid': 'invalid',
  'request.too_large': 'too_large',
  'auth.required': 'unauthenticated',
  'auth.forbidden': 'forbidden',
  'auth.csrf': 'forbidden',
  not_found: 'not_found',
  internal: 'internal',
  unavailable: 'unavailable',
  rate_limited: 'exhausted',
  // http: request bodies
  'request.aborted': 'invalid',
  'request.busy': 'exhausted',
  'server.busy': 'unavailable',
  // configuration
  'config.invalid': 'invalid',
  'config.unknown_key': 'invalid',
  'config.wrong_type': 'invalid',
  'config.yaml': 'invalid',
  'config.flag': 'invalid',
  // store
  'store.migration': 'internal',
  'store.locked': 'conflict',
  'store.open': 'internal',
  'store.file_empty': 'precondition',
  // pki
  'pki.csr_invalid': 'invalid',
  'pki.key_invalid': 'invalid',
  'pki.material_invalid': 'precondition',
  'pki.material_missing': 'precondition',
  // audit
  'audit.invalid_entry': 'invalid',
  'audit.chain_broken': 'precondition',
  'audit.not_broken': 'conflict',
  'audit.checkpoint_invalid': 'invalid',
  // policy
  'policy.template': 'invalid',
  'policy.template_limit': 'too_large',
  'policy.when_syntax': 'invalid',
  'policy.when_eval': 'invalid',
  'policy.snapshot_invalid': 'invalid',
  'policy.entry_unknown': 'not_found',
  'policy.traits_required': 'precondition',
  // enroll
  'enroll.token_invalid': 'unauthenticated',
  'enroll.token_expired': 'unauthenticated',
  'enroll.token_used_up': 'unauthenticated',
  'enroll.token_revoked': 'unauthenticated',
  'enroll.hostname_invalid': 'invalid',
  'enroll.hostname_not_allowed': 'forbidden',
  'enroll.key_invalid': 'invalid',
  'enroll.glob_invalid': 'invalid',
  'enroll.token_not_found': 'not_found',
  'enroll.conflict': 'conflict',
  // cli
  'cli.usage': 'invalid',
  'cli.unreachable': 'unavailable',
  'cli.credentials': 'unauthenticated',
  'cli.bad_response': 'internal',
  /** vigocli's saved contexts file is unreadable, too large or malformed. */
  'cli.context_file': 'invalid',
  /** --context or VIGO_CONTEXT names no saved context. */
  'cli.context_unknown': 'not_found',
  /** `vigocli db integrity` found problems in the server's database. */
  'cli.db_damaged': 'internal',
  // agent apply engine
  'agent.bundle_invalid': 'invalid',
  'agent.bundle_expired': 'precondition',
  // fleet
  'fleet.envoy_not_found': 'not_found',
  'fleet.envoy_revoked': 'precondition',
  'fleet.trait_filter': 'invalid',
  // live queries and force-push
  'query.trait_path_invalid': 'invalid',
  'query.invalid': 'invalid',
  'query.busy': 'unavailable',
  'query.not_found': 'not_found',
  /** A named query the active configuration does not define. */
  'query.unknown': 'not_found',
  'push.reason_invalid': 'invalid',
  // named tasks
  'task.param_unknown': 'invalid',
  'task.param_missing': 'invalid',
  'task.param_invalid': 'invalid',
  // orchestration
  'orchestration.target_invalid': 'invalid',
  'orchestration.target_unknown': 'not_found',
  'orchestration.targets_empty': 'invalid',
  'target_group.name_invalid': 'invalid',
  'target_group.invalid': 'invalid',
  'target_group.not_found': 'not_found',
  'target_group.limit': 'exhausted',
  // database maintenance
  'db.prune_invalid': 'invalid',
  'db.maintenance_failed': 'unavailable',
  /** VACUUM needs free space on the data dir's file system of at least the database's size. */
  'db.vacuum_no_space': 'precondition',
  // backup and restore
  'backup.in_progress': 'conflict',
  'backup.invalid': 'invalid',
  'backup.failed': 'unavailable',
  /** The archive is not a complete Vigo backup: truncated, malformed, or a member missing or extra. */
  'backup.archive_invalid': 'invalid',
  /** A member's size or SHA-256 differs from the manifest. */
  'backup.checksum_mismatch': 'invalid',
  /** A member named outside the archive's root: absolute, `..`, a link or a special file. */
  'backup.member_unsafe': 'invalid',
  /** Too many members, or a member or the whole archive over its size bound. */
  'backup.too_large': 'too_large',
  'backup.decrypt_failed': 'unauthenticated',
  'backup.target_not_empty': 'precondition',
  // tasks
  'task.invalid': 'invalid',
  'task.blocked': 'forbidden',
  'task.health_check_forbidden': 'forbidden',
  'task.not_found': 'not_found',
  'task.finished': 'conflict',
  'task.limit': 'exhausted',
  'task.unknown': 'not_found',
  // workflows
  'workflow.unknown': 'not_found',
  'workflow.not_found': 'not_found',
  'workflow.finished': 'conflict',
  'workflow.not_waiting': 'conflict',
  'workflow.self_approval': 'forbidden',
  'workflow.limit': 'exhausted',
  'workflow.param_unknown': 'invalid',
  'workflow.param_missing': 'invalid',
  'workflow.param_invalid': 'invalid',
  // why a workflow step or run ended badly (recorded on the run, not answered to a request)
  'workflow.step_failed': 'precondition',
  'workflow.step_limit': 'exhausted',
  'workflow.timeout': 'precondition',
  'workflow.rejected': 'precondition',
  'workflow.interrupted': 'unavailable',
  'workflow.aborted': 'conflict',
  /** The agent's own guardrail refused a command task (the TaskResult message starts with this code). */
  'task.agent_refused': 'forbidden',
  // publish
  'publish.stacks_invalid': 'invalid',
  'publish.upload_invalid': 'invalid',
  'publish.frozen': 'precondition',
  'publish.version_not_found': 'not_found',
  'publish.not_pending': 'conflict',
  'publish.pending_exists': 'conflict',
  'publish.self_approval': 'forbidden',
  'publish.rollback_invalid': 'conflict',
  'publish.validator_busy': 'unavailable',
  'publish.validator_timeout': 'too_large',
  'publish.validator_out_of_memory': 'too_large',
  'publish.validator_crashed': 'internal',
  // secrets
  'secrets.path_invalid': 'invalid',
  'secrets.value_invalid': 'invalid',
  'secrets.value_too_large': 'too_large',
  'secrets.not_found': 'not_found',
  'secrets.vault_corrupt': 'internal',
  'secrets.master_key_invalid': 'precondition',
  // exports (SIEM, CMDB)
  /** The export is switched off in server.yaml (exports.siem, exports.cmdb). */
  'export.disabled': 'not_found',
  'export.cursor_invalid': 'invalid',
  'export.field_unknown': 'invalid',
  // bootstrap
  'bootstrap.agent_unavailable': 'unavailable',
  // identity
  'identity.login_failed': 'unauthenticated',
  'identity.user_exists': 'conflict',
  'identity.user_not_found': 'not_found',
  'identity.user_disabled': 'forbidden',
  'identity.username_invalid': 'invalid',
  'identity.password_invalid': 'invalid',
  'identity.last_admin': 'precondition',
  'identity.token_not_found': 'not_found',
  'identity.token_limit': 'precondition',
  'identity.bootstrap_invalid': 'unauthenticated',
  'identity.bootstrap_used': 'conflict',
  // compliance and exports
  /** A framework no envoy claims in the active configuration. */
  'compliance.framework_unknown': 'not_found',
  // integrations (event sinks)
  'integrations.target_not_found': 'not_found',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof errorCatalog;

export class VigoError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  /** Extra machine-readable facts (file, line, key…) safe to show the caller. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'VigoError';
    this.code = code;
    this.kind = errorCatalog[code];
    this.details = details;
  }
}

export function isVigoError(err: unknown): err is VigoError {
  return err instanceof VigoError;
}

/** A caller-safe view of any thrown value: unknown errors become `internal` without leaking their text. */
export function toPublicError(err: unknown): { code: ErrorCode; kind: ErrorKind; message: string } {
  if (isVigoError(err)) return { code: err.code, kind: err.kind, message: err.message };
  return { code: 'internal', kind: 'internal', message: 'internal error' };
}
