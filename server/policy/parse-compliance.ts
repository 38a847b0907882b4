/**
 * Compliance in the stacks (docs/compliance.md): claims that configcrates enforce framework controls, and
 * waivers that excuse matching envoys from a control until an expiry.
 *
 * - A configcrate's own `compliance: {framework: [control ids]}`.
 * - `compliance.vgo` under `configcrates/`: `claims: {framework: [control ids]}`, inherited by every configcrate
 *   in that directory and below.
 * - `compliance.vgo` (or the older `waivers.vgo`) anywhere else: `waivers: [{match, framework, control,
 *   reason, owner, expires}]`.
 *
 * Everything is checked with a file:line diagnostic (waivers in parse-waivers.ts); nothing of a broken
 * document reaches the snapshot.
 */
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import { isRecord } from './yaml-source.ts';
import type { SourceMap } from './yaml-source.ts';

export const complianceLimits = {
  frameworksPerMap: 64,
  controlsPerFramework: 4096,
  waiversPerFile: 10_000,
  matchPerWaiver: 64,
  textBytes: 1024,
} as const;

/** A framework name: lowercase letters, digits, `.`, `_` or `-` (cis, soc2, nist-800-53, pci-dss, iso-27001). */
export const frameworkNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** A control id as frameworks write them: 1.1.1, AC-2, AC-2(1), CC6.1, 164.312(e)(1), A.5.1. */
export const controlIdPattern = /^[A-Za-z0-9][A-Za-z0-9._()/-]{0,63}$/;

export interface ComplianceContext {
  sink: DiagnosticSink;
  map: SourceMap;
}

export interface ClaimsFile {
  file: string;
  /** Directory of the file relative to the stacks root (`configcrates`, `configcrates/web`). */
  dir: string;
  claims: Record<string, string[]>;
}

export function posOf(ctx: ComplianceContext, holder: object, key: string | number, fallback: Pos): Pos {
  const at = ctx.map.pos(holder, key);
  return at.file === '' ? fallback : at;
}

/**
 * A `framework → [control ids]` map, checked. Returns the valid part with each list sorted and deduplicated;
 * every problem is reported.
 */
export function parseClaimsMap(
  value: unknown,
  at: Pos,
  what: string,
  ctx: ComplianceContext,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (value === undefined || value === null) return out;
  if (!isRecord(value)) {
    ctx.sink.error('compliance.wrong_type', at, `${what} must be a mapping of framework → [control ids]`);
    return out;
  }
  const frameworks = Object.keys(value);
  if (frameworks.length > complianceLimits.frameworksPerMap) {
    ctx.sink.error(
      'compliance.too_many',
      at,
      `${what} names ${frameworks.length} frameworks; at most ${complianceLimits.frameworksPerMap}`,
    );
    return out;
  }
  for (const framework of frameworks) {
    const keyAt = ctx.map.keyPos(value, framework);
    const where = keyAt.file === '' ? at : keyAt;
    if (!frameworkNamePattern.test(framework)) {
      ctx.sink.error(
        'compliance.framework_invalid',
        where,
        `framework name ${JSON.stringify(framework.slice(0, 80))} is not 1 to 64 lowercase letters, digits, ".", "_" or "-"`,
        'write frameworks as cis, soc2, nist-800-53, pci-dss, iso-27001, hipaa',
      );
      continue;
    }
    const ids = parseControlList(value[framework], posOf(ctx, value, framework, where), framework, ctx);
    if (ids !== undefined) out[framework] = ids;
  }
  return out;
}

function parseControlList(
  value: unknown,
  at: Pos,
  framework: string,
  ctx: ComplianceContext,
): string[] | undefined {
  if (!Array.isArray(value)) {
    ctx.sink.error('compliance.wrong_type', at, `the controls of ${framework} must be a list of control ids`);
    return undefined;
  }
  if (value.length === 0) {
    ctx.sink.error(
      'compliance.empty_controls',
      at,
      `${framework} lists no controls`,
      'name at least one control id or remove the framework',
    );
    return undefined;
  }
  if (value.length > complianceLimits.controlsPerFramework) {
    ctx.sink.error(
      'compliance.too_many',
      at,
      `${framework} lists ${value.length} controls; at most ${complianceLimits.controlsPerFramework}`,
    );
    return undefined;
  }
  const ids = new Set<string>();
  let ok = true;
  value.forEach((id: unknown, i) => {
    const idAt = posOf(ctx, value, i, at);
    if (typeof id !== 'string') {
      ctx.sink.error(
        'compliance.control_invalid',
        idAt,
        `control id ${JSON.stringify(id)} of ${framework} is not a string`,
        'quote control ids that look like numbers: "1.10"',
      );
      ok = false;
    } else if (!controlIdPattern.test(id)) {
      ctx.sink.error(
        'compliance.control_invalid',
        idAt,
        `control id ${JSON.stringify(id.slice(0, 80))} of ${framework} is not 1 to 64 letters, digits, ".", "_", "-", "/", "(" or ")"`,
      );
      ok = false;
    } else ids.add(id);
  });
  return ok ? [...ids].sort() : undefined;
}

export function unknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
  ctx: ComplianceContext,
): boolean {
  let ok = true;
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    ctx.sink.error(
      'compliance.unknown_key',
      ctx.map.keyPos(value, key),
      `${what} has an unknown key ${JSON.stringify(key.slice(0, 80))}`,
      `allowed: ${allowed.join(', ')}`,
    );
    ok = false;
  }
  return ok;
}

/** A compliance.vgo under configcrates/ (a claims file). */
export function parseClaimsFile(
  file: string,
  dir: string,
  value: unknown,
  ctx: ComplianceContext,
): ClaimsFile | undefined {
  const at: Pos = { file, line: 1, col: 1 };
  if (value === null) {
    ctx.sink.warning('file.empty', at, `compliance claims file ${file} is empty`);
    return undefined;
  }
  if (!isRecord(value)) {
    ctx.sink.error('compliance.wrong_type', at, `${file} must be a mapping with a claims: key`);
    return undefined;
  }
  if (!unknownKeys(value, ['claims'], `compliance claims file ${file}`, ctx)) return undefined;
  if (value.claims === undefined) {
    ctx.sink.error(
      'compliance.missing_key',
      at,
      `${file} has no claims: mapping of framework → [control ids]`,
    );
    return undefined;
  }
  const before = ctx.sink.count;
  const claims = parseClaimsMap(value.claims, posOf(ctx, value, 'claims', at), `claims in ${file}`, ctx);
  return ctx.sink.count === before ? { file, dir, claims } : undefined;
}

/**
 * Each configcrate's claims: its own map merged with every claims file in its directory or above, control
 * ids sorted and deduplicated. Only configcrates that claim something appear.
 */
export function resolveClaims(
  crates: Iterable<{ name: string; file: string; compliance: Record<string, string[]> }>,
  files: readonly ClaimsFile[],
): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  const sorted = [...crates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const crate of sorted) {
    const merged = new Map<string, Set<string>>();
    const add = (claims: Record<string, string[]>): void => {
      for (const [framework, ids] of Object.entries(claims)) {
        const set = merged.get(framework) ?? new Set<string>();
        for (const id of ids) set.add(id);
        merged.set(framework, set);
      }
    };
    for (const f of files) if (crate.file.startsWith(`${f.dir}/`)) add(f.claims);
    add(crate.compliance);
    if (merged.size === 0) continue;
    out[crate.name] = Object.fromEntries(
      [...merged.keys()].sort().map((framework) => [framework, [...merged.get(framework)!].sort()]),
    );
  }
  return out;
}
