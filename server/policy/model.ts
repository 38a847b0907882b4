/** The loaded (not yet compiled) stacks tree: what each file declared, with positions for diagnostics. */
import type { CompiledTemplate } from './template/index.ts';
import type { WhenExpr } from './when/index.ts';
import type { Pos } from './diagnostics.ts';
import type { ClaimsFile } from './parse-compliance.ts';
import type { QueryDef } from './parse-queries.ts';
import type { CompiledWaiver } from './types.ts';
import type { TaskDef } from './parse-tasks.ts';
import type { WorkflowDef } from './parse-workflows.ts';

export interface Ref {
  text: string;
  at: Pos;
}

export type RefKind = 'depends_on' | 'before' | 'notify' | 'subscribes';

export interface TemplatedRef extends Ref {
  kind: RefKind;
  tpl?: CompiledTemplate;
}

/** A template found in a string field; `path` starts at `params`, `case` or `onRevert`. */
export interface FieldTemplate {
  path: (string | number)[];
  text: string;
  tpl: CompiledTemplate;
  at: Pos;
}

export interface ForeachSpec {
  /** Name of a list variable, or undefined for an inline list. */
  varName?: string;
  list?: unknown[];
  at: Pos;
}

export interface WhenSpec {
  text: string;
  expr: WhenExpr;
  at: Pos;
}

export interface ResourceDef {
  crate: string;
  file: string;
  index: number;
  at: Pos;
  type: string;
  /** Whether `type` is a built-in (false only with skip_validation). */
  known: boolean;
  name?: { text: string; tpl?: CompiledTemplate; at: Pos };
  /** Type fields with the configcrate's `defaults:` merged in; templates still unrendered. */
  params: Record<string, unknown>;
  caseOverrides: Record<string, Record<string, unknown>> | null;
  onRevert: Record<string, unknown> | null;
  revert: boolean;
  templates: FieldTemplate[];
  /** `source: templates/x.tmpl`, read and compiled at load; rendered into `content`. */
  sourceFile?: { rel: string; at: Pos; tpl?: CompiledTemplate; text: string };
  refs: TemplatedRef[];
  when?: WhenSpec;
  onlyWhenNotified: boolean;
  foreach?: ForeachSpec;
  /** Positions of type fields, for protected-path errors after rendering. */
  fieldAt: Record<string, Pos>;
}

export interface CrateDef {
  name: string;
  file: string;
  at: Pos;
  vars: Record<string, unknown>;
  dependsOn: Ref[];
  foreach?: ForeachSpec;
  compliance: Record<string, string[]>;
  resources: ResourceDef[];
  /** Variables any template, when: or foreach of this configcrate reads. */
  varsUsed: string[];
  /** No foreach and no templated names or references: every instance has the same resource graph. */
  fixedShape: boolean;
  /** Some template reads .Vars as a whole: instances are keyed by every variable. */
  readsAllVars: boolean;
  /** Resources that failed to load: references to them are not reported a second time. */
  brokenResourceNames: Set<string>;
  /** Load errors: compiled as empty so one broken file does not cascade into every entry. */
  broken: boolean;
  /**
   * SHA-256 over what the definition was built from (its file's path and text, and the path and text of
   * every `source:` file it read): two definitions with the same fingerprint are the same definition.
   */
  fingerprint?: string;
}

export interface RoleCase {
  key: string;
  at: Pos;
  crates: Ref[];
}

export interface RoleDef {
  name: string;
  file: string;
  at: Pos;
  configcrates: Ref[];
  cases: RoleCase[];
  includes: Ref[];
}

export interface CommonDef {
  dir: string;
  file: string;
  configcrates: Ref[];
  roles: Ref[];
  vars: Record<string, unknown>;
}

export interface EnvDef {
  name: string;
  file: string;
  at: Pos;
  vars: Record<string, unknown>;
  configcrates: Ref[];
  exclude: Ref[];
}

export interface EnvFile {
  dir: string;
  file: string;
  envs: Map<string, EnvDef>;
}

export interface LeafEntry {
  file: string;
  dir: string;
  at: Pos;
  patterns: Ref[];
  environment?: Ref;
  roles: Ref[];
  configcrates: Ref[];
  vars: Record<string, unknown>;
  observeOnly: boolean;
}

export interface Stacks {
  root: string;
  crates: Map<string, CrateDef>;
  roles: Map<string, RoleDef>;
  commons: CommonDef[];
  envFiles: EnvFile[];
  /** In first-match order. */
  entries: LeafEntry[];
  /** Claims files (compliance.vgo under configcrates/), in discovery order. */
  claimsFiles: ClaimsFile[];
  /** Waivers of the envoys tree, in discovery order. */
  waivers: CompiledWaiver[];
  /** Basenames of configcrate files that failed to parse: references to them are not re-reported. */
  brokenCrateNames: Set<string>;
  /** Configcrates on a depends_on loop (reported once; their ordering edges are ignored afterwards). */
  cyclicCrates: Set<string>;
  /** Named tasks from tasks.vgo, in file order. */
  tasks: TaskDef[];
  /** Workflows from workflows.vgo, in file order. */
  workflows: WorkflowDef[];
  /** Named queries from queries.vgo, in file order. */
  queries: QueryDef[];
  /** Literal `source:` URLs with their positions, for the optional aliveness check. */
  urls: Ref[];
}
