/**
 * Policy: the stacks loader, validator and compiler. `validateStacks` is the single entry point for
 * both `vigocli config validate` and publish; the snapshot it returns resolves hostnames to entries
 * and builds the bundle documents agents apply. docs/stacks.md and docs/bundle-format.md are the
 * operator- and agent-facing descriptions.
 */
export { validateStacks } from './validate.ts';
export { CompileCarry } from './carry.ts';
export { buildBundleDocument, selectCase } from './bundle.ts';
export { diffEntries, diffResources } from './diff.ts';
export { deserializeSnapshot, serializeSnapshot, trustedSnapshot } from './snapshot.ts';
export { LazySnapshot, encodeSnapshot, indexTransfers } from './snapshot-encoded.ts';
export type { EncodedSnapshot, SnapshotIndex, Span } from './snapshot-encoded.ts';
export { canonicalJson } from './canonical.ts';
export { compileGlob } from './host-matcher.ts';
export { complianceLimits, frameworkNamePattern } from './parse-compliance.ts';
export { waiverExpiryMs } from './parse-waivers.ts';
export { namedTaskLimits } from './parse-tasks.ts';
export { namedQueryLimits } from './parse-queries.ts';
export type { CompiledQuery } from './parse-queries.ts';
export type { CompiledTask, TaskParamSpec } from './parse-tasks.ts';
export { bindTaskParams, coerceParam } from './task-params.ts';
export { valueProblem } from './parse-tasks.ts';
export { workflowLimits } from './parse-workflows.ts';
export type { CompiledWorkflow, CompiledWorkflowStep } from './parse-workflows.ts';
export { splitRefs, workflowStepOutputs } from './workflow-refs.ts';
export type { RefPart, WorkflowRef, WorkflowStepType } from './workflow-refs.ts';
export type { GivenParam } from './task-params.ts';
export { secretMarker } from './secrets.ts';
export { commonResourceProperties, knownResourceTypes, resourceSchemas } from './schemas/resource-schemas.ts';
export type {
  BundleDocument,
  BundleOptions,
  BundleResource,
  CompiledEntry,
  CompiledResource,
  CompiledSnapshot,
  ComplianceData,
  CompiledWaiver,
  CrateInstance,
  DeferredTemplate,
  Diagnostic,
  EntryCrate,
  EntryDiff,
  EntryLink,
  Severity,
  SnapshotJson,
  ValidateOptions,
  ValidateResult,
} from './types.ts';
export { compileSchemaValidators } from './schema-check.ts';
