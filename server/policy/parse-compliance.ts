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
 * Everything is checked here with a file:line diagnostic; nothing of a broken document reaches the snapshot.
 */
import { canonicalJson, sha256Hex } from './canonical.ts';
import type { DiagnosticSink, Pos } from './diagnostics.ts';
import { compileGlob } from './host-matcher.ts';
import type { CompiledWaiver } from './types.ts';
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

const waiverKeys = ['match', 'framework', 'control', 'reason', 'owner', 'expires'] as const;

function posOf(ctx: ComplianceContext, holder: object, key: string | number, fallback: Pos): Pos {
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

function unknownKeys(
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

const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const dayMs = 86_400_000;

/**
 * When a waiver stops counting: a date (YYYY-MM-DD) covers that whole day in UTC, so it ends at the next
 * midnight UTC; an RFC 3339 timestamp with a zone ends at that instant. Undefined when neither.
 */
export function waiverExpiryMs(text: string): number | undefined {
  const d = dateOnly.exec(text);
  if (d !== null) {
    const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    const back = new Date(ms).toISOString().slice(0, 10);
    return back === text ? ms + dayMs : undefined;
  }
  if (!rfc3339.test(text)) return undefined;
  const ms = Date.parse(text.replace(' ', 'T'));
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March: compare the calendar day it read with the one written.
  const day = text.slice(0, 10);
  const [y, m, dd] = day.split('-').map(Number) as [number, number, number];
  if (new Date(Date.UTC(y, m - 1, dd)).toISOString().slice(0, 10) !== day) return undefined;
  return ms;
}

function text(
  waiver: Record<string, unknown>,
  key: string,
  at: Pos,
  label: string,
  ctx: ComplianceContext,
): string | undefined {
  const v = waiver[key];
  if (v === undefined || v === null || v === '') {
    ctx.sink.error('compliance.waiver_incomplete', at, `${label} has no ${key}`, waiverHint(key));
    return undefined;
  }
  if (typeof v !== 'string') {
    ctx.sink.error('compliance.wrong_type', posOf(ctx, waiver, key, at), `${label}: ${key} must be a string`);
    return undefined;
  }
  if (Buffer.byteLength(v) > complianceLimits.textBytes) {
    ctx.sink.error(
      'compliance.too_long',
      posOf(ctx, waiver, key, at),
      `${label}: ${key} is longer than ${complianceLimits.textBytes} bytes`,
    );
    return undefined;
  }
  return v;
}

function waiverHint(key: string): string {
  switch (key) {
    case 'reason':
      return 'say why the control does not apply or is accepted';
    case 'owner':
      return 'name who accepted the risk (a person or team)';
    case 'expires':
      return 'every waiver ends: give a date (2027-06-30) or an RFC 3339 time';
    default:
      return `a waiver needs ${waiverKeys.join(', ')}`;
  }
}

function parseMatch(
  waiver: Record<string, unknown>,
  at: Pos,
  label: string,
  ctx: ComplianceContext,
): string[] | undefined {
  const v = waiver.match;
  const list = typeof v === 'string' ? [v] : v;
  if (v === undefined || v === null) {
    ctx.sink.error(
      'compliance.waiver_incomplete',
      at,
      `${label} has no match`,
      'give a hostname glob or a list of them',
    );
    return undefined;
  }
  const where = posOf(ctx, waiver, 'match', at);
  if (!Array.isArray(list) || list.length === 0 || list.length > complianceLimits.matchPerWaiver) {
    ctx.sink.error(
      'compliance.wrong_type',
      where,
      `${label}: match must be a hostname glob or a list of 1 to ${complianceLimits.matchPerWaiver} globs`,
    );
    return undefined;
  }
  const globs: string[] = [];
  for (const g of list as unknown[]) {
    const problem =
      typeof g !== 'string' || g === '' || g.length > 253
        ? 'is not a hostname glob'
        : typeof compileGlob(g) === 'string'
          ? (compileGlob(g) as string)
          : undefined;
    if (problem !== undefined) {
      ctx.sink.error('compliance.match_invalid', where, `${label}: match ${JSON.stringify(g)} ${problem}`);
      return undefined;
    }
    globs.push(g as string);
  }
  return globs;
}

function parseWaiver(
  file: string,
  waiver: unknown,
  at: Pos,
  index: number,
  ctx: ComplianceContext,
): CompiledWaiver | undefined {
  const label = `waiver ${index + 1} in ${file}`;
  if (!isRecord(waiver)) {
    ctx.sink.error('compliance.wrong_type', at, `${label} must be a mapping`);
    return undefined;
  }
  const before = ctx.sink.count;
  unknownKeys(waiver, waiverKeys, label, ctx);
  const match = parseMatch(waiver, at, label, ctx);
  const framework = text(waiver, 'framework', at, label, ctx);
  if (framework !== undefined && !frameworkNamePattern.test(framework))
    ctx.sink.error(
      'compliance.framework_invalid',
      posOf(ctx, waiver, 'framework', at),
      `${label}: framework ${JSON.stringify(framework.slice(0, 80))} is not 1 to 64 lowercase letters, digits, ".", "_" or "-"`,
    );
  const control = text(waiver, 'control', at, label, ctx);
  if (control !== undefined && !controlIdPattern.test(control))
    ctx.sink.error(
      'compliance.control_invalid',
      posOf(ctx, waiver, 'control', at),
      `${label}: control ${JSON.stringify(control.slice(0, 80))} is not a control id`,
    );
  const reason = text(waiver, 'reason', at, label, ctx);
  const owner = text(waiver, 'owner', at, label, ctx);
  const expires = text(waiver, 'expires', at, label, ctx);
  const expiresAtMs = expires === undefined ? undefined : waiverExpiryMs(expires);
  if (expires !== undefined && expiresAtMs === undefined)
    ctx.sink.error(
      'compliance.date_invalid',
      posOf(ctx, waiver, 'expires', at),
      `${label}: expires ${JSON.stringify(expires.slice(0, 80))} is neither a date (YYYY-MM-DD) nor an RFC 3339 time`,
      'write 2027-06-30 or 2027-06-30T17:00:00Z',
    );
  if (ctx.sink.count !== before) return undefined;
  const key = { control, expires, framework, match };
  return {
    id: sha256Hex(canonicalJson(key)).slice(0, 16),
    source: `${file}:${at.line}`,
    match: match!,
    framework: framework!,
    control: control!,
    reason: reason!,
    owner: owner!,
    expires: expires!,
    expiresAtMs: expiresAtMs!,
  };
}

/** An envoys-tree compliance.vgo (or waivers.vgo). */
export function parseWaiversFile(file: string, value: unknown, ctx: ComplianceContext): CompiledWaiver[] {
  const at: Pos = { file, line: 1, col: 1 };
  if (value === null) {
    ctx.sink.warning('file.empty', at, `compliance waivers file ${file} is empty`);
    return [];
  }
  if (!isRecord(value)) {
    ctx.sink.error('compliance.wrong_type', at, `${file} must be a mapping with a waivers: list`);
    return [];
  }
  if (!unknownKeys(value, ['waivers'], `compliance waivers file ${file}`, ctx)) return [];
  const list = value.waivers;
  if (!Array.isArray(list)) {
    ctx.sink.error(
      'compliance.missing_key',
      posOf(ctx, value, 'waivers', at),
      `${file} needs a waivers: list`,
    );
    return [];
  }
  if (list.length > complianceLimits.waiversPerFile) {
    ctx.sink.error(
      'compliance.too_many',
      posOf(ctx, value, 'waivers', at),
      `${file} lists ${list.length} waivers; at most ${complianceLimits.waiversPerFile}`,
    );
    return [];
  }
  const out: CompiledWaiver[] = [];
  list.forEach((w: unknown, i) => {
    const waiver = parseWaiver(file, w, posOf(ctx, list, i, at), i, ctx);
    if (waiver !== undefined) out.push(waiver);
  });
  return out;
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
