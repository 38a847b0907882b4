/**
 * Exports for outside systems (docs/exports.md), each switched on in server.yaml (exports.siem,
 * exports.cmdb); a switched-off export answers 404 export.disabled.
 *   GET /api/v1/export/siem   events and audit entries as ECS ndjson, resumable with ?after=<cursor>
 *   GET /api/v1/export/cmdb   the envoy inventory as JSON or CSV, paged with ?cursor=, ?fields= to choose
 */
import { VigoError } from '../../core/index.ts';
import type { Actor } from '../../core/index.ts';
import type { EventType } from '../../events/index.ts';
import type { CmdbReader, ExportName, SiemExportDeps } from '../../exports/index.ts';
import {
  cmdbFields,
  cmdbLimits,
  csvRow,
  parseCmdbFields,
  siemLimits,
  siemPage,
} from '../../exports/index.ts';
import { hasPermission } from '../../identity/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface ExportRoutesDeps {
  readonly siem: SiemExportDeps;
  readonly cmdb: CmdbReader;
  /** Read per request, so a reload switches an export on or off at once. */
  readonly enabled: (name: ExportName) => boolean;
}

const siemQuery = {
  after: {
    type: 'string',
    maxLength: siemLimits.maxCursorLength,
    description: 'next_cursor from the trailer line of the previous page; leave out to start at the oldest',
  },
  limit: {
    type: 'integer',
    min: 1,
    max: siemLimits.maxLimit,
    description: `records in the page (default ${siemLimits.defaultLimit})`,
  },
} as const;

const cmdbQuery = {
  format: { type: 'enum', values: ['json', 'csv'], description: 'json (default) or csv' },
  fields: {
    type: 'string',
    maxLength: 1024,
    description: `comma-separated fields, in the order wanted; default all: ${cmdbFields.join(', ')}`,
  },
  cursor: {
    type: 'string',
    maxLength: cmdbLimits.maxCursorLength,
    description: 'nextCursor of the previous page (JSON body, or the X-Vigo-Next-Cursor header)',
  },
  limit: {
    type: 'integer',
    min: 1,
    max: cmdbLimits.maxLimit,
    description: `envoys in the page (default ${cmdbLimits.defaultLimit})`,
  },
} as const;

const cmdbResponse: JsonSchema = {
  type: 'object',
  required: ['fields', 'items', 'total', 'nextCursor'],
  properties: {
    fields: { type: 'array', items: { enum: [...cmdbFields] } },
    items: {
      type: 'array',
      items: {
        type: 'object',
        description: 'one envoy: the selected fields, null where unknown',
        properties: Object.fromEntries(cmdbFields.map((f) => [f, { type: ['string', 'integer', 'null'] }])),
      },
    },
    total: { type: 'integer', description: 'enrolled envoys (every page)' },
    nextCursor: { type: ['string', 'null'], description: 'null on the last page' },
  },
};

function requireEnabled(deps: ExportRoutesDeps, name: ExportName): void {
  if (!deps.enabled(name))
    throw new VigoError(
      'export.disabled',
      `the ${name.toUpperCase()} export is switched off; set exports.${name}: true in server.yaml to serve it`,
      { export: name },
    );
}

/** As on the live event stream: user and token events are for admins only. */
function eventFilter(actor: Actor): (type: EventType) => boolean {
  if (hasPermission(actor, 'admin')) return () => true;
  return (type) => !type.startsWith('user.') && !type.startsWith('token.');
}

export function exportRoutes(deps: ExportRoutesDeps): AnyRoute[] {
  return [
    route<Record<never, never>, typeof siemQuery>({
      method: 'GET',
      path: '/api/v1/export/siem',
      summary:
        'SIEM export: events and audit entries as Elastic Common Schema ndjson, oldest first; the last ' +
        'line is the page trailer {"vigo":{"page":{"next_cursor",...}}}',
      tag: 'exports',
      access: 'compliance.read',
      query: siemQuery,
      produces: 'application/x-ndjson',
      errors: ['export.disabled', 'export.cursor_invalid'],
      handler: ({ c, ctx, query }) => {
        requireEnabled(deps, 'siem');
        // Vigo keeps the audit chain from the compliance role: audit entries need audit.read as well.
        const withAudit = hasPermission(ctx.actor, 'audit.read');
        const body = siemPage(deps.siem, {
          after: query.after,
          limit: query.limit ?? siemLimits.defaultLimit,
          includeEvent: eventFilter(ctx.actor),
          includeAudit: withAudit,
        });
        return c.body(body, 200, {
          'Content-Type': 'application/x-ndjson; charset=utf-8',
          'Cache-Control': 'no-store',
        });
      },
    }),
    route<Record<never, never>, typeof cmdbQuery>({
      method: 'GET',
      path: '/api/v1/export/cmdb',
      summary:
        'CMDB export: the envoy inventory as JSON or CSV (RFC 4180, formula-safe), paged in hostname order',
      tag: 'exports',
      access: 'compliance.read',
      query: cmdbQuery,
      response: cmdbResponse,
      errors: ['export.disabled', 'export.cursor_invalid', 'export.field_unknown'],
      handler: ({ c, query }) => {
        requireEnabled(deps, 'cmdb');
        const page = deps.cmdb.page({
          fields: parseCmdbFields(query.fields),
          limit: query.limit ?? cmdbLimits.defaultLimit,
          cursor: query.cursor,
        });
        c.header('Cache-Control', 'no-store');
        if (page.nextCursor !== null) c.header('X-Vigo-Next-Cursor', page.nextCursor);
        c.header('X-Vigo-Total', String(page.total));
        if (query.format !== 'csv') return c.json(page);
        const lines = [csvRow(page.fields)];
        for (const item of page.items) lines.push(csvRow(page.fields.map((f) => item[f] ?? null)));
        return c.body(lines.join(''), 200, {
          'Content-Type': 'text/csv; charset=utf-8; header=present',
          'Content-Disposition': 'attachment; filename="vigo-cmdb.csv"',
        });
      },
    }),
  ];
}
