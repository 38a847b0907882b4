/**
 * The CMDB export: the envoy inventory, one row per enrolled envoy, paged in hostname order. Identity,
 * status, agent version, last seen and convergence come from the in-memory fleet index; the hardware and
 * software facts come from each envoy's traits, read for one page at a time in a single indexed query
 * (the few traits not yet flushed are still in memory), and only when a selected field needs them.
 */
import { VigoError, closestName, listNames } from '../core/index.ts';
import type { EnvoyEntry, FleetIndex } from '../fleet/index.ts';
// The function's own module: vigocli reads the field list from here without the fleet runtime.
import { envoyReachability } from '../fleet/reachability.ts';
import type { Db } from '../store/index.ts';
import type { CsvCell } from './csv.ts';

export const cmdbLimits = { defaultLimit: 500, maxLimit: 1000, maxCursorLength: 1400 } as const;

/** Every field, in the order a full row lists them (docs/exports.md describes each). */
export const cmdbFields = [
  'hostname',
  'envoy_id',
  'status',
  'os_name',
  'os_version',
  'os_family',
  'kernel',
  'arch',
  'cpu_count',
  'cpu_model',
  'memory_mb',
  'primary_ip',
  'packages_count',
  'agent_version',
  'policy_version',
  'enrolled_at',
  'last_seen',
  'convergence_status',
  'drift',
  'reachability',
] as const;

export type CmdbField = (typeof cmdbFields)[number];

const traitFields: ReadonlySet<CmdbField> = new Set<CmdbField>([
  'os_name',
  'os_version',
  'os_family',
  'kernel',
  'arch',
  'cpu_count',
  'cpu_model',
  'memory_mb',
  'primary_ip',
  'packages_count',
]);

const maxFieldsLength = 1024;

/** Parses `fields=a,b,c`: every name known, none empty; duplicates collapse; the given order is kept. */
export function parseCmdbFields(text: string | undefined): CmdbField[] {
  if (text === undefined) return [...cmdbFields];
  const chosen: CmdbField[] = [];
  for (const raw of text.slice(0, maxFieldsLength).split(',')) {
    const name = raw.trim();
    if (!(cmdbFields as readonly string[]).includes(name)) {
      const shown = name.slice(0, 64);
      const hint = name === '' ? undefined : closestName(name, cmdbFields);
      throw new VigoError(
        'export.field_unknown',
        `fields: ${name === '' ? 'empty field name in the list' : `unknown field "${shown}"`}` +
          `${hint === undefined ? '' : ` (did you mean "${hint}"?)`}; the fields are ${listNames(cmdbFields, cmdbFields.length)}`,
        { field: 'fields', value: shown },
      );
    }
    if (!chosen.includes(name as CmdbField)) chosen.push(name as CmdbField);
  }
  return chosen;
}

/** The cursor is the last row's place in the order (hostname, then id), base64url so it travels in a URL. */
export function encodeCmdbCursor(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

export function decodeCmdbCursor(text: string): string {
  const key = /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const sep = key.indexOf('\u0000');
  if (sep < 1 || sep === key.length - 1 || key.indexOf('\u0000', sep + 1) !== -1)
    throw new VigoError(
      'export.cursor_invalid',
      'cursor: not a cursor this server gave; pass the nextCursor of the previous page, or leave it out',
      { field: 'cursor' },
    );
  return key;
}

interface TraitFacts {
  os_name: string | null;
  os_version: string | null;
  os_family: string | null;
  kernel: string | null;
  arch: string | null;
  cpu_count: number | null;
  cpu_model: string | null;
  memory_mb: number | null;
  primary_ip: string | null;
  packages_count: number | null;
}

type TraitFactsRow = { hash: string; interfaces: unknown } & Record<
  Exclude<keyof TraitFacts, 'primary_ip'>,
  unknown
>;

const noFacts: TraitFacts = {
  os_name: null,
  os_version: null,
  os_family: null,
  kernel: null,
  arch: null,
  cpu_count: null,
  cpu_model: null,
  memory_mb: null,
  primary_ip: null,
  packages_count: null,
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The address an inventory lists for a host: the first global IPv4 address, else the first global IPv6
 * one, over the interfaces in the order the agent reported them (sorted by name); loopback and link-local
 * addresses never.
 */
export function primaryIp(interfaces: unknown): string | null {
  if (!Array.isArray(interfaces)) return null;
  let v6: string | null = null;
  for (const iface of interfaces.slice(0, 256) as unknown[]) {
    const addresses = (iface as { addresses?: unknown } | null)?.addresses;
    if (!Array.isArray(addresses)) continue;
    for (const cidr of addresses.slice(0, 64) as unknown[]) {
      if (typeof cidr !== 'string') continue;
      const ip = cidr.split('/')[0] ?? '';
      if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
        if (!ip.startsWith('127.') && !ip.startsWith('169.254.')) return ip;
      } else if (ip.includes(':') && v6 === null) {
        const lower = ip.toLowerCase();
        if (lower !== '::1' && !/^fe[89ab]/.test(lower)) v6 = ip;
      }
    }
  }
  return v6;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function factsFromDocument(doc: unknown): TraitFacts {
  const at = (path: string[]): unknown =>
    path.reduce<unknown>(
      (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      doc,
    );
  return {
    os_name: str(at(['os', 'distro'])),
    os_version: str(at(['os', 'version'])),
    os_family: str(at(['os', 'family'])),
    kernel: str(at(['kernel', 'release'])),
    arch: str(at(['arch'])),
    cpu_count: num(at(['cpu', 'count'])),
    cpu_model: str(at(['cpu', 'model'])),
    memory_mb: num(at(['memory', 'total_mb'])),
    primary_ip: primaryIp(at(['network', 'interfaces'])),
    packages_count: num(at(['packages', 'count'])),
  };
}

export interface CmdbDeps {
  readonly db: Db;
  readonly fleet: FleetIndex;
}

export interface CmdbPageRequest {
  readonly fields: readonly CmdbField[];
  readonly limit: number;
  readonly cursor: string | undefined;
}

export type CmdbRow = Readonly<Partial<Record<CmdbField, CsvCell>>>;

export interface CmdbPage {
  readonly fields: readonly CmdbField[];
  readonly items: CmdbRow[];
  readonly total: number;
  readonly nextCursor: string | null;
}

export interface CmdbReader {
  page(request: CmdbPageRequest): CmdbPage;
}

const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

export function createCmdbReader(deps: CmdbDeps): CmdbReader {
  // One query per page, by primary key: the json_extract calls keep each large traits document (package
  // lists) inside SQLite instead of parsing it here.
  const factsByHash = deps.db.prepare<[string], TraitFactsRow>(
    `SELECT hash,
            json_extract(json, '$.os.distro') AS os_name,
            json_extract(json, '$.os.version') AS os_version,
            json_extract(json, '$.os.family') AS os_family,
            json_extract(json, '$.kernel.release') AS kernel,
            json_extract(json, '$.arch') AS arch,
            json_extract(json, '$.cpu.count') AS cpu_count,
            json_extract(json, '$.cpu.model') AS cpu_model,
            json_extract(json, '$.memory.total_mb') AS memory_mb,
            json_extract(json, '$.packages.count') AS packages_count,
            json_extract(json, '$.network.interfaces') AS interfaces
       FROM traits WHERE hash IN (SELECT value FROM json_each(?))`,
  );

  const loadFacts = (entries: readonly EnvoyEntry[]): Map<string, TraitFacts> => {
    const facts = new Map<string, TraitFacts>();
    const stored = new Set<string>();
    for (const { traitsHash } of entries) {
      if (traitsHash === '' || facts.has(traitsHash)) continue;
      const pending = deps.fleet.pendingTraitsJson(traitsHash);
      if (pending === undefined) stored.add(traitsHash);
      else facts.set(traitsHash, factsFromDocument(parseJson(pending)));
    }
    if (stored.size === 0) return facts;
    for (const row of factsByHash.all(JSON.stringify([...stored]))) {
      // json_extract answers JSON text for an object where a value was expected: such a value is unknown.
      facts.set(row.hash, {
        os_name: str(row.os_name),
        os_version: str(row.os_version),
        os_family: str(row.os_family),
        kernel: str(row.kernel),
        arch: str(row.arch),
        cpu_count: num(row.cpu_count),
        cpu_model: str(row.cpu_model),
        memory_mb: num(row.memory_mb),
        primary_ip: typeof row.interfaces === 'string' ? primaryIp(parseJson(row.interfaces)) : null,
        packages_count: num(row.packages_count),
      });
    }
    return facts;
  };

  const rowOf = (entry: EnvoyEntry, facts: TraitFacts, fields: readonly CmdbField[]): CmdbRow => {
    const all: Record<CmdbField, CsvCell> = {
      hostname: entry.hostname,
      envoy_id: entry.id,
      status: entry.status,
      ...facts,
      agent_version: entry.agentVersion === '' ? null : entry.agentVersion,
      policy_version: entry.policyVersion,
      enrolled_at: iso(entry.enrolledAtMs),
      last_seen: iso(entry.lastSeenAtMs),
      convergence_status: entry.convergence.status,
      drift: entry.convergence.drift,
      reachability: envoyReachability(entry),
    };
    return Object.fromEntries(fields.map((f) => [f, all[f]]));
  };

  return {
    page({ fields, limit, cursor }) {
      const after = cursor === undefined ? undefined : decodeCmdbCursor(cursor);
      const page = deps.fleet.list({}, limit, after);
      const facts = fields.some((f) => traitFields.has(f))
        ? loadFacts(page.items)
        : new Map<string, TraitFacts>();
      return {
        fields,
        items: page.items.map((entry) => rowOf(entry, facts.get(entry.traitsHash) ?? noFacts, fields)),
        total: page.total,
        nextCursor: page.nextCursor === undefined ? null : encodeCmdbCursor(page.nextCursor),
      };
    },
  };
}
