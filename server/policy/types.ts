/**
 * Public shapes of the policy module: diagnostics, validation options, the compiled snapshot and the
 * bundle document the agent applies. docs/stacks.md and docs/bundle-format.md describe them for
 * operators and agent authors.
 */
import type { CompileCarry } from './carry.ts';
import type { CompiledQuery } from './parse-queries.ts';
import type { CompiledTask } from './parse-tasks.ts';
import type { CompiledWorkflow } from './parse-workflows.ts';
import type { UrlCheckOptions } from './url-check.ts';

export type Severity = 'error' | 'warning' | 'info';

/** One finding about a stacks tree. `file` is relative to the stacks dir; line/col are 1-based. */
export interface Diagnostic {
  severity: Severity;
  /** Stable identifier operators and scripts can match on, e.g. `schema.unknown_key`. */
  code: string;
  file: string;
  line: number;
  col: number;
  message: string;
  /** How to fix it; empty when the message already says everything. */
  hint: string;
}

export interface ValidateOptions {
  /** Absolute paths no resource may manage (the server and agent binaries, data dirs…). */
  protectedPaths: string[];
  /** Service units no resource may manage (e.g. `vigosrv.service`, `vigo-envoy.service`). */
  protectedServices: string[];
  /**
   * The server's data directory. When it lies inside the stacks tree (`--stacks .` with the user-mode
   * `./.vigo`), nothing in it is read: the layout walk skips it and a `source:` into it is refused.
   */
  dataDir?: string;
  /** Whether the secrets provider holds `path` (the text after `secret:`). */
  secretExists(path: string): boolean;
  /**
   * When set, every literal http(s) `source:` URL is probed (url-check.ts): each within `timeoutMs`,
   * `concurrency` at a time, all within `budgetMs`. Off by default.
   */
  checkUrls?: UrlCheckOptions;
  /** Clock for `compiledAtMs`; fixed in golden tests. */
  now?: () => number;
  /**
   * The caller only serializes the snapshot (the server's validator worker sends it to the main thread,
   * which indexes and freezes its own copy): skip freezing this one.
   */
  forTransfer?: boolean;
  /** Definitions and instances carried between validations of a long-lived process (carry.ts). */
  carry?: CompileCarry;
}

export interface ValidateResult {
  diagnostics: Diagnostic[];
  /** Present only when no diagnostic is an error. */
  snapshot?: CompiledSnapshot;
}

/** A template field whose rendering needs the envoy's traits, kept for `buildBundleDocument`. */
export interface DeferredTemplate {
  /** Where the rendered text goes: starts with `params`, `case` (then the case key) or `onRevert`. */
  path: (string | number)[];
  text: string;
  source: { file: string; line: number; col: number };
}

/** One resource after foreach/defaults expansion and rendering; shared by every entry using its instance. */
export interface CompiledResource {
  /** `<configcrate>/<name>`, unique within an entry. */
  id: string;
  name: string;
  type: string;
  /** Type fields, rendered, with `secret:` references replaced by markers. */
  params: Record<string, unknown>;
  /** Ids this resource must follow (its `depends_on` plus the inverse of other resources' `before`). */
  dependsOn: string[];
  /** Ids to re-apply when this resource changes (its `notify` plus the inverse of `subscribes`). */
  notify: string[];
  /** Residual `when:` for the agent, or null when it always applies. */
  when: string | null;
  /** True when `when:` mentions traits, so a bundle built with traits can decide it. */
  whenUsesTraits: boolean;
  /** `when: changed`: applied only when a notifying resource changed. */
  onlyWhenNotified: boolean;
  revert: boolean;
  onRevert: Record<string, unknown> | null;
  /** Fields that can only be rendered with the envoy's traits. */
  deferred: DeferredTemplate[];
  /** Per-OS overrides keyed by distro or OS family (`default` as fallback), resolved with traits. */
  case: Record<string, Record<string, unknown>> | null;
  /** The foreach element this resource was stamped from (needed to render deferred templates). */
  item?: unknown;
}

/** A configcrate resolved with a particular set of variable values. Content-addressed by `hash`. */
export interface CrateInstance {
  hash: string;
  configcrate: string;
  resources: CompiledResource[];
  /** `file:line` each resource came from, by id (not hashed: moving a line changes nothing on envoys). */
  origins: Record<string, string>;
  secretPaths: string[];
  usesTraits: boolean;
}

export interface EntryCrate {
  name: string;
  /** Hash of the CrateInstance in `snapshot.instances`. */
  instance: string;
  /** Residual guard from a role `case:` group (`os_family('debian') || distro('debian')`), or null. */
  when: string | null;
}

export interface EntryLink {
  from: string;
  to: string;
  kind: 'depends_on' | 'notify';
}

export interface CompiledEntry {
  /** Stable id: `<file>[<first pattern>]`, suffixed `#2`, `#3` when a file repeats a pattern. */
  id: string;
  file: string;
  line: number;
  /** Position in first-match order (0 = tried first). */
  index: number;
  patterns: string[];
  environment: string | null;
  observeOnly: boolean;
  configcrates: EntryCrate[];
  /** Merged variables (secret values already replaced by markers). */
  vars: Record<string, unknown>;
  /** Cross-configcrate edges resolved for this entry. */
  links: EntryLink[];
  /** Every resource id of every configcrate, in a stable topological order. */
  order: string[];
  secretPaths: string[];
  /** A template or `case:` needs envoy traits: bundles must be built per traits hash. */
  usesTraits: boolean;
  merkleRoot: string;
  /** Named tasks (tasks.vgo) this entry's bundles carry, sorted; absent when none. */
  tasks?: string[];
}

/** A waiver from an envoys-tree compliance.vgo (or waivers.vgo), checked at publish. */
export interface CompiledWaiver {
  /** Stable across publishes while its match, framework, control and expiry stay the same. */
  id: string;
  /** `file:line` where it is written. */
  source: string;
  /** Hostname globs of the envoys it excuses. */
  match: string[];
  framework: string;
  control: string;
  reason: string;
  owner: string;
  /** As written: a date (YYYY-MM-DD, the whole day in UTC) or an RFC 3339 time. */
  expires: string;
  /** When it stops counting. */
  expiresAtMs: number;
}

export interface ComplianceData {
  /**
   * configcrate → framework → sorted control ids: its own `compliance:` map merged with the claims of every
   * claims file (compliance.vgo under configcrates/) in its directory or above. Only configcrates that claim something.
   */
  claims: Record<string, Record<string, string[]>>;
  /** Every waiver of the envoys tree, in file order. */
  waivers: CompiledWaiver[];
}

export interface SnapshotJson {
  format: 1;
  hash: string;
  compiledAtMs: number;
  instances: Record<string, CrateInstance>;
  entries: CompiledEntry[];
  compliance: ComplianceData;
  /** Named tasks by name; absent when the stacks define none. */
  tasks?: Record<string, CompiledTask>;
  /** Workflows by name; absent when the stacks define none. */
  workflows?: Record<string, CompiledWorkflow>;
  /** Named queries by name; absent when the stacks define none. */
  queries?: Record<string, CompiledQuery>;
}

export interface CompiledSnapshot {
  /** SHA-256 of the canonical encoding of instances, entries and compliance (no time, no version). */
  readonly hash: string;
  readonly compiledAtMs: number;
  /** Every entry in first-match order (a served snapshot parses them all for this: prefer the lookups). */
  readonly entries: readonly CompiledEntry[];
  readonly entryCount: number;
  readonly instances: ReadonlyMap<string, CrateInstance>;
  readonly compliance: ComplianceData;
  /** Named tasks from tasks.vgo, by name (empty when none). */
  readonly tasks: Readonly<Record<string, CompiledTask>>;
  /** Workflows from workflows.vgo, by name (empty when none). */
  readonly workflows: Readonly<Record<string, CompiledWorkflow>>;
  /** Named queries from queries.vgo, by name (empty when none). */
  readonly queries: Readonly<Record<string, CompiledQuery>>;
  /** First entry (in first-match order) whose patterns match `hostname`. */
  matchEntry(hostname: string): CompiledEntry | undefined;
  entryById(id: string): CompiledEntry | undefined;
  toJSON(): SnapshotJson;
}

export interface BundleOptions {
  policyVersion: number;
  /** The envoy's traits; required when `entry.usesTraits`. */
  traits?: Record<string, unknown>;
  secretsEpoch: number;
  issuedAtMs: number;
  expiresAtMs: number;
}

export interface BundleResource {
  id: string;
  name: string;
  type: string;
  configcrate: string;
  params: Record<string, unknown>;
  depends_on: string[];
  notify: string[];
  when: string | null;
  only_when_notified: boolean;
  revert: boolean;
  on_revert: Record<string, unknown> | null;
}

export interface BundleDocument {
  format_version: 1;
  policy_version: number;
  entry_id: string;
  merkle_root: string;
  traits_hash: string | null;
  issued_at_ms: number;
  expires_at_ms: number;
  secrets_epoch: number;
  observe_only: boolean;
  secret_paths: string[];
  resources: BundleResource[];
  /** Named tasks the agent may run on request, by name; absent when the entry has none. */
  tasks?: Record<string, CompiledTask>;
  /** Named read-only queries the agent answers, by name; absent when the stacks define none. */
  queries?: Record<string, CompiledQuery>;
}

export interface EntryDiff {
  entryId: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  added: string[];
  changed: string[];
  removed: string[];
}
