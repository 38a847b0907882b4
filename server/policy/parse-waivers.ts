/**
 * Waivers of the envoys tree (`compliance.vgo` outside configcrates/, or the older `waivers.vgo`): each
 * excuses the envoys whose hostname matches from one control of one framework, with a reason and an owner,
 * until it expires. docs/compliance.md "Waivers".
 */
import { canonicalJson, sha256Hex } from './canonical.ts';
import type { Pos } from './diagnostics.ts';
import { compileGlob } from './host-matcher.ts';
import {
  complianceLimits,
  controlIdPattern,
  frameworkNamePattern,
  posOf,
  unknownKeys,
} from './parse-compliance.ts';
import type { ComplianceContext } from './parse-compliance.ts';
import type { CompiledWaiver } from './types.ts';
import { isRecord } from './yaml-source.ts';

const waiverKeys = ['match', 'framework', 'control', 'reason', 'owner', 'expires'] as const;

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
