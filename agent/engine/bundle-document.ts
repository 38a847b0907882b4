/**
 * The bundle document as the agent sees it (docs/bundle-format.md). The agent does not import the
 * server's policy types: it parses the JSON it received and refuses anything it could not apply
 * faithfully, listing every problem at once so one fix round is enough.
 */
import { VigoError } from '../../server/core/index.ts';
import { parseStackTasks } from '../tasks/stack-tasks.ts';
import type { StackTask } from '../tasks/stack-tasks.ts';
import { parseStackQueries } from '../tasks/stack-queries.ts';
import type { StackQuery } from '../tasks/stack-queries.ts';

export interface BundleResource {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly configcrate: string;
  /** Fully rendered type fields; strings may hold `__VIGO_SECRET__<path>__END__` markers. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Ids earlier in the bundle that must have been applied successfully first. */
  readonly depends_on: readonly string[];
  /** Ids later in the bundle to re-apply when this resource changed. */
  readonly notify: readonly string[];
  /** `null` = always; otherwise a residual when-expression evaluated on the agent. */
  readonly when: string | null;
  readonly only_when_notified: boolean;
  readonly revert: boolean;
  /** Fields laid over `params` when `revert` is true. */
  readonly on_revert: Readonly<Record<string, unknown>> | null;
}

export interface BundleDocument {
  readonly format_version: 1;
  readonly policy_version: number;
  /** `null` when the server has no published configuration ("manage nothing"). */
  readonly entry_id: string | null;
  readonly merkle_root: string;
  readonly traits_hash: string | null;
  readonly issued_at_ms: number;
  readonly expires_at_ms: number;
  readonly secrets_epoch: number;
  readonly observe_only: boolean;
  readonly secret_paths: readonly string[];
  /** In a valid topological order: applying front to back is correct. */
  readonly resources: readonly BundleResource[];
  /** Named tasks from the stacks this host may be asked to run, by name (empty when none). */
  readonly tasks: ReadonlyMap<string, StackTask>;
  /** Named read-only queries from the stacks, by name (empty when none). */
  readonly queries: ReadonlyMap<string, StackQuery>;
}

/** Limits of the run report (agent.proto ResourceResult / RunReport), checked here so a run is never refused. */
export const bundleLimits = {
  maxResources: 10_000,
  maxIdBytes: 512,
  maxTypeBytes: 64,
  maxConfigcrateBytes: 256,
} as const;

const maxProblemsShown = 20;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

class Problems {
  readonly list: string[] = [];
  add(where: string, what: string): void {
    this.list.push(`${where}: ${what}`);
  }
}

function text(obj: Json, key: string, where: string, p: Problems, maxBytes?: number): string {
  const v = obj[key];
  if (typeof v !== 'string' || v === '') {
    p.add(`${where}.${key}`, 'must be a non-empty string');
    return '';
  }
  if (maxBytes !== undefined && bytes(v) > maxBytes)
    p.add(`${where}.${key}`, `is ${bytes(v)} bytes, at most ${maxBytes} allowed`);
  return v;
}

function flag(obj: Json, key: string, where: string, p: Problems): boolean {
  const v = obj[key];
  if (typeof v !== 'boolean') p.add(`${where}.${key}`, 'must be true or false');
  return v === true;
}

function stringList(obj: Json, key: string, where: string, p: Problems): string[] {
  const v = obj[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    p.add(`${where}.${key}`, 'must be a list of strings');
    return [];
  }
  return [...v];
}

function parseResource(raw: unknown, where: string, p: Problems): BundleResource | undefined {
  if (!isObject(raw)) {
    p.add(where, 'must be an object');
    return undefined;
  }
  const params = raw.params;
  if (!isObject(params)) p.add(`${where}.params`, 'must be an object');
  const onRevert = raw.on_revert;
  if (onRevert !== null && !isObject(onRevert)) p.add(`${where}.on_revert`, 'must be an object or null');
  const when = raw.when;
  if (when !== null && typeof when !== 'string') p.add(`${where}.when`, 'must be a string or null');
  const name = raw.name;
  if (typeof name !== 'string') p.add(`${where}.name`, 'must be a string');
  const configcrate = raw.configcrate;
  if (typeof configcrate !== 'string') p.add(`${where}.configcrate`, 'must be a string');
  else if (bytes(configcrate) > bundleLimits.maxConfigcrateBytes)
    p.add(`${where}.configcrate`, `is longer than ${bundleLimits.maxConfigcrateBytes} bytes`);
  return {
    id: text(raw, 'id', where, p, bundleLimits.maxIdBytes),
    name: typeof name === 'string' ? name : '',
    type: text(raw, 'type', where, p, bundleLimits.maxTypeBytes),
    configcrate: typeof configcrate === 'string' ? configcrate : '',
    params: isObject(params) ? params : {},
    depends_on: stringList(raw, 'depends_on', where, p),
    notify: stringList(raw, 'notify', where, p),
    when: typeof when === 'string' ? when : null,
    only_when_notified: flag(raw, 'only_when_notified', where, p),
    revert: flag(raw, 'revert', where, p),
    on_revert: isObject(onRevert) ? onRevert : null,
  };
}

/**
 * The array order is the apply order, so a dependency must come before its dependent and a notify
 * target after its notifier; anything else could not be honoured and means a broken bundle.
 */
function checkReferences(resources: readonly BundleResource[], p: Problems): void {
  const position = new Map<string, number>();
  resources.forEach((r, i) => {
    if (r.id === '') return;
    if (position.has(r.id)) p.add(`resources[${i}].id`, `"${r.id}" is also resources[${position.get(r.id)}]`);
    else position.set(r.id, i);
  });
  resources.forEach((r, i) => {
    for (const dep of r.depends_on) {
      const at = position.get(dep);
      if (at === undefined) p.add(`resources[${i}].depends_on`, `"${dep}" is not a resource in this bundle`);
      else if (at >= i) p.add(`resources[${i}].depends_on`, `"${dep}" must come before "${r.id}"`);
    }
    for (const target of r.notify) {
      const at = position.get(target);
      if (at === undefined) p.add(`resources[${i}].notify`, `"${target}" is not a resource in this bundle`);
      else if (at <= i) p.add(`resources[${i}].notify`, `"${target}" must come after "${r.id}"`);
    }
  });
}

function parseHeader(raw: Json, p: Problems): Omit<BundleDocument, 'resources' | 'tasks' | 'queries'> {
  if (raw.format_version !== 1)
    p.add('format_version', `is ${JSON.stringify(raw.format_version)}, this agent reads format 1 only`);
  for (const key of ['policy_version', 'issued_at_ms', 'expires_at_ms', 'secrets_epoch'])
    if (!isCount(raw[key])) p.add(key, 'must be a non-negative integer');
  const entryId = raw.entry_id;
  if (entryId !== null && typeof entryId !== 'string') p.add('entry_id', 'must be a string or null');
  const merkleRoot = raw.merkle_root;
  if (typeof merkleRoot !== 'string' || !/^[0-9a-f]{64}$/.test(merkleRoot))
    p.add('merkle_root', 'must be 64 lowercase hex digits');
  const traitsHash = raw.traits_hash;
  if (traitsHash !== null && (typeof traitsHash !== 'string' || !/^[0-9a-f]{64}$/.test(traitsHash)))
    p.add('traits_hash', 'must be 64 lowercase hex digits or null');
  return {
    format_version: 1,
    policy_version: raw.policy_version as number,
    entry_id: typeof entryId === 'string' ? entryId : null,
    merkle_root: typeof merkleRoot === 'string' ? merkleRoot : '',
    traits_hash: typeof traitsHash === 'string' ? traitsHash : null,
    issued_at_ms: raw.issued_at_ms as number,
    expires_at_ms: raw.expires_at_ms as number,
    secrets_epoch: raw.secrets_epoch as number,
    observe_only: flag(raw, 'observe_only', '(bundle)', p),
    secret_paths: stringList(raw, 'secret_paths', '(bundle)', p),
  };
}

/**
 * Validates a decoded bundle document. Throws VigoError `agent.bundle_invalid` listing every
 * problem (the first 20) with where it is, e.g. `resources[2].depends_on: "a/b" is not a resource in this bundle`.
 * Unknown keys are ignored so that additive server changes do not break older agents.
 */
export function parseBundleDocument(json: unknown): BundleDocument {
  const p = new Problems();
  if (!isObject(json)) {
    throw new VigoError(
      'agent.bundle_invalid',
      'bundle document is not a JSON object; the server sent something else',
      {
        problems: ['(bundle): must be an object'],
      },
    );
  }
  const header = parseHeader(json, p);
  const rawResources = json.resources;
  const resources: BundleResource[] = [];
  if (!Array.isArray(rawResources)) p.add('resources', 'must be a list');
  else if (rawResources.length > bundleLimits.maxResources)
    p.add('resources', `has ${rawResources.length} entries, at most ${bundleLimits.maxResources} allowed`);
  else
    rawResources.forEach((r, i) => {
      const parsed = parseResource(r, `resources[${i}]`, p);
      if (parsed) resources.push(parsed);
    });
  if (resources.length === (Array.isArray(rawResources) ? rawResources.length : -1))
    checkReferences(resources, p);
  const stackTasks = parseStackTasks(json.tasks);
  if ('problem' in stackTasks) p.add('tasks', stackTasks.problem);
  const stackQueries = parseStackQueries(json.queries);
  if ('problem' in stackQueries) p.add('queries', stackQueries.problem);
  if (p.list.length > 0) {
    const shown = p.list.slice(0, maxProblemsShown);
    const more = p.list.length > shown.length ? `; … and ${p.list.length - shown.length} more` : '';
    throw new VigoError(
      'agent.bundle_invalid',
      `bundle document is invalid (${p.list.length} problem${p.list.length === 1 ? '' : 's'}), nothing was applied: ${shown.join('; ')}${more}`,
      { problems: p.list },
    );
  }
  return {
    ...header,
    resources,
    tasks: 'tasks' in stackTasks ? stackTasks.tasks : new Map(),
    queries: 'queries' in stackQueries ? stackQueries.queries : new Map(),
  };
}
