/**
 * Check 8 of agent.proto: a decoded payload respects the limits documented on its fields. Each function
 * returns why a payload (or one run of it) breaks them, or undefined; nothing is stored before these pass.
 */
import { ResourceOutcome, TaskStatus, protocolLimits } from '../../protocol/index.ts';
import type { PayloadOf, ResourceResult, RunReport, TaskResult } from '../../protocol/index.ts';
import { nestedDeeperThan } from '../core/index.ts';

const hexDigest = /^[0-9a-f]{64}$/;
const uuidText = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** "<field> is N bytes; the limit is M" when `text` is longer than `max` UTF-8 bytes (or shorter than `min`). */
function sizeProblem(field: string, text: string, max: number, min = 0): string | undefined {
  const bytes = utf8Bytes(text);
  if (bytes < min) return min === 1 ? `${field} is empty` : `${field} is ${bytes} bytes; at least ${min}`;
  if (bytes > max) return `${field} is ${bytes} bytes; the limit is ${max}`;
  return undefined;
}

function firstProblem(...problems: (string | undefined)[]): string | undefined {
  return problems.find((problem) => problem !== undefined);
}

/** A CheckInPayload's fields; traits_json is checked against its hash and parsed by `parseTraits`. */
export function checkInProblem(payload: PayloadOf<'CheckIn'>): string | undefined {
  return firstProblem(
    sizeProblem('agent_version', payload.agentVersion, protocolLimits.agentVersionMaxBytes),
    sizeProblem('hostname', payload.hostname, protocolLimits.hostnameMaxBytes),
    payload.stateFingerprint === '' || hexDigest.test(payload.stateFingerprint)
      ? undefined
      : 'state_fingerprint is neither "" nor 64 lowercase hex characters',
    payload.traitsHash === '' || hexDigest.test(payload.traitsHash)
      ? undefined
      : 'traits_hash is neither "" nor 64 lowercase hex characters',
    payload.traitsJson.length > protocolLimits.traitsJsonMaxBytes
      ? `traits_json is ${payload.traitsJson.length} bytes; the limit is ${protocolLimits.traitsJsonMaxBytes}`
      : undefined,
    sizeProblem('traceparent', payload.traceparent, protocolLimits.traceparentMaxBytes),
  );
}

/**
 * The traits document of a CheckIn, as the text to store: its SHA-256 must be traits_hash and it must be a
 * JSON object. Returns a problem string instead when it is not.
 */
export function parseTraits(
  traitsJson: Uint8Array,
  traitsHash: string,
  sha256Hex: string,
): string | { json: string } {
  if (sha256Hex !== traitsHash) return 'traits_hash is not the SHA-256 of traits_json';
  const json = Buffer.from(traitsJson.buffer, traitsJson.byteOffset, traitsJson.byteLength).toString('utf8');
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (err) {
    return `traits_json is not JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    return 'traits_json is not a JSON object';
  if (nestedDeeperThan(document, protocolLimits.traitsJsonMaxDepth))
    return `traits_json nests deeper than ${protocolLimits.traitsJsonMaxDepth} levels`;
  return { json };
}

/** A ReportResultsPayload as a whole: 1..100 runs. Each run is judged on its own by `runProblem`. */
export function reportProblem(payload: PayloadOf<'ReportResults'>): string | undefined {
  const count = payload.runs.length;
  if (count === 0) return 'runs is empty; send 1 to 100 runs';
  if (count > protocolLimits.runsPerReportMax)
    return `runs holds ${count} runs; the limit is ${protocolLimits.runsPerReportMax} per call`;
  return undefined;
}

const validOutcomes: ReadonlySet<ResourceOutcome> = new Set([
  ResourceOutcome.NONE,
  ResourceOutcome.CREATED,
  ResourceOutcome.UPDATED,
  ResourceOutcome.DELETED,
  ResourceOutcome.SKIPPED,
  ResourceOutcome.BLOCKED,
  ResourceOutcome.FAILED,
]);

function resultProblem(result: ResourceResult, index: number): string | undefined {
  const at = `results[${index}]`;
  return firstProblem(
    sizeProblem(`${at}.resource_id`, result.resourceId, protocolLimits.resourceIdMaxBytes, 1),
    sizeProblem(`${at}.resource_type`, result.resourceType, protocolLimits.resourceTypeMaxBytes, 1),
    sizeProblem(`${at}.configcrate`, result.configcrate, protocolLimits.configcrateMaxBytes),
    sizeProblem(`${at}.message`, result.message, protocolLimits.messageTextMaxBytes),
    validOutcomes.has(result.outcome) ? undefined : `${at}.outcome is not a valid ResourceOutcome`,
  );
}

/** Why one RunReport breaks its schema (it is then rejected alone), or undefined. */
export function runProblem(run: RunReport): string | undefined {
  const startedAtMs = run.startedAtMs;
  const finishedAtMs = run.finishedAtMs;
  const problem = firstProblem(
    uuidText.test(run.runId) ? undefined : 'run_id is not a UUID in its 36-character text form',
    run.policyVersion > BigInt(Number.MAX_SAFE_INTEGER) ? 'policy_version is out of range' : undefined,
    startedAtMs < 0n || startedAtMs > BigInt(Number.MAX_SAFE_INTEGER)
      ? 'started_at_ms is not Unix milliseconds'
      : undefined,
    finishedAtMs < startedAtMs ? 'finished_at_ms is before started_at_ms' : undefined,
    finishedAtMs > BigInt(Number.MAX_SAFE_INTEGER) ? 'finished_at_ms is not Unix milliseconds' : undefined,
    sizeProblem('traceparent', run.traceparent, protocolLimits.traceparentMaxBytes),
    run.results.length > protocolLimits.resultsPerRunMax
      ? `results holds ${run.results.length} entries; the limit is ${protocolLimits.resultsPerRunMax}`
      : undefined,
  );
  if (problem !== undefined) return problem;
  for (let i = 0; i < run.results.length; i++) {
    const found = resultProblem(run.results[i]!, i);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A ResolveSecretsPayload: 1..256 distinct references of 1..512 bytes each. */
export function resolveSecretsProblem(payload: PayloadOf<'ResolveSecrets'>): string | undefined {
  const refs = payload.refs;
  if (refs.length === 0) return 'refs is empty; name 1 to 256 secret references';
  if (refs.length > protocolLimits.secretRefsPerCallMax)
    return `refs holds ${refs.length} references; the limit is ${protocolLimits.secretRefsPerCallMax} per call`;
  const seen = new Set<string>();
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    const problem = sizeProblem(`refs[${i}]`, ref, protocolLimits.secretRefMaxBytes, 1);
    if (problem !== undefined) return problem;
    if (seen.has(ref)) return `refs[${i}] repeats "${ref.slice(0, 64)}"; every reference must be distinct`;
    seen.add(ref);
  }
  return sizeProblem('traceparent', payload.traceparent, protocolLimits.traceparentMaxBytes);
}

const validTaskStatuses: ReadonlySet<TaskStatus> = new Set([
  TaskStatus.SUCCEEDED,
  TaskStatus.FAILED,
  TaskStatus.TIMED_OUT,
  TaskStatus.REJECTED,
]);

/** An AgentStreamPayload's TaskResult or QueryResult (Hello and Heartbeat carry nothing unbounded but the version). */
export function streamProblem(payload: PayloadOf<'AgentStream'>): string | undefined {
  const { kind } = payload;
  switch (kind.case) {
    case 'hello':
      return sizeProblem('hello.agent_version', kind.value.agentVersion, protocolLimits.agentVersionMaxBytes);
    case 'taskResult':
      return taskResultProblem(kind.value);
    case 'queryResult': {
      const result = kind.value;
      return firstProblem(
        uuidText.test(result.queryId) ? undefined : 'query_result.query_id is not a UUID in its text form',
        result.valueJson.length > protocolLimits.queryValueMaxBytes
          ? `query_result.value_json is ${result.valueJson.length} bytes; the limit is ${protocolLimits.queryValueMaxBytes}`
          : undefined,
        sizeProblem('query_result.error', result.error, protocolLimits.messageTextMaxBytes),
      );
    }
    case 'heartbeat':
      return undefined;
    default:
      return 'the message sets none of hello, heartbeat, task_result, query_result';
  }
}

function taskResultProblem(result: TaskResult): string | undefined {
  const outputMax = protocolLimits.taskOutputMaxBytes;
  const problem = firstProblem(
    uuidText.test(result.taskId) ? undefined : 'task_result.task_id is not a UUID in its text form',
    validTaskStatuses.has(result.status) ? undefined : 'task_result.status is not a valid TaskStatus',
    result.stdout.length > outputMax
      ? `task_result.stdout is ${result.stdout.length} bytes; the limit is ${outputMax}`
      : undefined,
    result.stderr.length > outputMax
      ? `task_result.stderr is ${result.stderr.length} bytes; the limit is ${outputMax}`
      : undefined,
    result.startedAtMs < 0n || result.startedAtMs > BigInt(Number.MAX_SAFE_INTEGER)
      ? 'task_result.started_at_ms is not Unix milliseconds'
      : undefined,
    result.finishedAtMs < 0n || result.finishedAtMs > BigInt(Number.MAX_SAFE_INTEGER)
      ? 'task_result.finished_at_ms is not Unix milliseconds'
      : undefined,
    sizeProblem('task_result.message', result.message, protocolLimits.messageTextMaxBytes),
    sizeProblem('task_result.traceparent', result.traceparent, protocolLimits.traceparentMaxBytes),
    result.results.length > protocolLimits.resultsPerRunMax
      ? `task_result.results holds ${result.results.length} entries; the limit is ${protocolLimits.resultsPerRunMax}`
      : undefined,
  );
  if (problem !== undefined) return problem;
  for (let i = 0; i < result.results.length; i++) {
    const found = resultProblem(result.results[i]!, i);
    if (found !== undefined) return `task_result.${found}`;
  }
  return undefined;
}
