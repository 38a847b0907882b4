/**
 * Target selection for everything that reaches envoys on the operator's word (tasks, live queries,
 * force-push). A selection is a list of targets, united, then narrowed by trait filters:
 *
 *   - an envoy id (UUID text)            exactly that envoy
 *   - a hostname                         the envoy with that hostname (case-insensitive)
 *   - a hostname glob (`web-*`, `db-[12]`) every envoy whose hostname matches
 *   - a trait filter (`os.distro=ubuntu`)  every envoy whose traits match (anything with =, !=, <, >)
 *   - a saved target group (`@web-prod`)  the envoys its own selection names now (target-groups.ts)
 *
 * Revoked envoys are never selected. A target that names an id or a hostname no envoy has is an error
 * (orchestration.target_unknown), as is a selection that ends up empty (orchestration.targets_empty):
 * nothing is ever dispatched to "no one" by accident. Resolution reads the in-memory FleetIndex; trait
 * documents are read once per distinct traits hash.
 */
import { VigoError } from '../core/index.ts';
import { compileGlobs } from '../enroll/index.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
import { parseTraitFilter, traitsMatcher } from '../fleet/index.ts';
import type { TraitFilter } from '../fleet/index.ts';
import { isGroupName } from './target-groups.ts';
import type { TargetGroupLookup } from './target-groups.ts';

export const targetLimits = { maxTargets: 100, maxTargetBytes: 512, maxWhere: 16 } as const;

export interface TargetSelection {
  /** Ids, hostnames, hostname globs or trait filters; at least one. */
  readonly targets: readonly string[];
  /** Trait filters every selected envoy must also match. */
  readonly where?: readonly string[];
}

export interface TargetDeps {
  readonly fleet: FleetIndex;
  readonly traitsByHash: (hash: string) => unknown;
  readonly groups: TargetGroupLookup;
}

const uuidText = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const globChars = /[*?[]/;
const filterChars = /[=<>]/;

type Target =
  | { kind: 'id'; text: string }
  | { kind: 'hostname'; text: string }
  | { kind: 'glob'; text: string; matches: (hostname: string) => boolean }
  | { kind: 'traits'; text: string; filter: TraitFilter }
  | { kind: 'group'; text: string };

function parseTarget(text: string): Target {
  if (text.length === 0 || Buffer.byteLength(text) > targetLimits.maxTargetBytes)
    throw new VigoError(
      'orchestration.target_invalid',
      `a target is 1 to ${targetLimits.maxTargetBytes} bytes; got ${Buffer.byteLength(text)}`,
      { field: 'targets' },
    );
  if (uuidText.test(text)) return { kind: 'id', text: text.toLowerCase() };
  if (text.startsWith('@')) {
    if (!isGroupName(text.slice(1)))
      throw new VigoError(
        'orchestration.target_invalid',
        `target ${JSON.stringify(text.slice(0, 80))} is not a target group name (@ then a-z, 0-9, _ and -)`,
        { field: 'targets' },
      );
    return { kind: 'group', text: text.slice(1) };
  }
  if (filterChars.test(text)) return { kind: 'traits', text, filter: parseTraitFilter(text) };
  if (globChars.test(text)) {
    try {
      return { kind: 'glob', text, matches: compileGlobs([text]) };
    } catch (err) {
      throw new VigoError(
        'orchestration.target_invalid',
        `target ${JSON.stringify(text.slice(0, 80))} is not a valid hostname glob: ${err instanceof Error ? err.message : String(err)}`,
        { field: 'targets' },
      );
    }
  }
  return { kind: 'hostname', text: text.toLowerCase() };
}

/** Parses a selection without resolving it: every problem with its text is reported before any lookup. */
export function parseSelection(selection: TargetSelection): { targets: Target[]; where: TraitFilter[] } {
  const { targets, where = [] } = selection;
  if (targets.length === 0)
    throw new VigoError('orchestration.target_invalid', 'name at least one target', { field: 'targets' });
  if (targets.length > targetLimits.maxTargets)
    throw new VigoError(
      'orchestration.target_invalid',
      `${targets.length} targets; at most ${targetLimits.maxTargets} per request (use a glob or a trait filter)`,
      { field: 'targets' },
    );
  if (where.length > targetLimits.maxWhere)
    throw new VigoError(
      'orchestration.target_invalid',
      `${where.length} trait filters; at most ${targetLimits.maxWhere}`,
      { field: 'where' },
    );
  return { targets: targets.map(parseTarget), where: where.map(parseTraitFilter) };
}

/** The active envoys a selection names, sorted by hostname then id. */
export function resolveTargets(deps: TargetDeps, selection: TargetSelection): EnvoyEntry[] {
  const { targets, where } = parseSelection(selection);
  const active = [...deps.fleet.values()].filter((entry) => entry.status !== 'revoked');
  const chosen = new Set<EnvoyEntry>();
  for (const target of targets) {
    let found: EnvoyEntry[];
    switch (target.kind) {
      case 'id': {
        const entry = deps.fleet.get(target.text);
        found = entry === undefined || entry.status === 'revoked' ? [] : [entry];
        break;
      }
      case 'hostname':
        found = active.filter((entry) => entry.hostname.toLowerCase() === target.text);
        break;
      case 'glob':
        found = active.filter((entry) => target.matches(entry.hostname));
        break;
      case 'traits': {
        const matches = traitsMatcher([target.filter], deps.traitsByHash);
        found = active.filter((entry) => matches(entry.traitsHash));
        break;
      }
      case 'group':
        found = groupMembers(deps, target.text);
        break;
    }
    if (found.length === 0 && (target.kind === 'id' || target.kind === 'hostname'))
      throw new VigoError(
        'orchestration.target_unknown',
        `no active envoy has the ${target.kind === 'id' ? 'id' : 'hostname'} ${JSON.stringify(target.text.slice(0, 253))}`,
        { field: 'targets', value: target.text.slice(0, 253) },
      );
    for (const entry of found) chosen.add(entry);
  }
  const narrowed =
    where.length === 0 ? [...chosen] : [...chosen].filter(traitsMatchEvery(where, deps.traitsByHash));
  if (narrowed.length === 0)
    throw new VigoError(
      'orchestration.targets_empty',
      `the targets ${JSON.stringify(selection.targets.slice(0, 5))}` +
        `${(selection.where ?? []).length > 0 ? ` with ${JSON.stringify(selection.where)}` : ''} select no active envoy`,
    );
  return narrowed.sort((a, b) =>
    a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}

/** The envoys a saved group's own selection names now (none is not an error: the request decides). */
function groupMembers(deps: TargetDeps, name: string): EnvoyEntry[] {
  const group = deps.groups.get(name);
  if (group === undefined)
    throw new VigoError('orchestration.target_unknown', `no target group is named ${JSON.stringify(name)}`, {
      field: 'targets',
      value: `@${name}`,
    });
  try {
    return resolveTargets(deps, { targets: group.targets, where: group.where });
  } catch (err) {
    if (err instanceof VigoError && err.code === 'orchestration.targets_empty') return [];
    throw err;
  }
}

function traitsMatchEvery(
  filters: readonly TraitFilter[],
  traitsByHash: (hash: string) => unknown,
): (entry: EnvoyEntry) => boolean {
  const matches = traitsMatcher(filters, traitsByHash);
  return (entry) => matches(entry.traitsHash);
}
