/**
 * Framework compliance (docs/compliance.md), all from memory (compliance.read):
 *   GET /api/v1/compliance                        per framework: envoys, controls, coverage
 *   GET /api/v1/compliance/frameworks/{framework} controls with their counts, failing envoys paged
 *   GET /api/v1/compliance/envoys/{id}            per framework and control, with resources, waivers, risk
 *   GET /api/v1/compliance/waivers                every waiver of the active configuration, expired flagged
 *   GET /api/v1/export/oscal                      OSCAL assessment-results (when exports.oscal is on)
 */
import {
  checkFramework,
  complianceOverview,
  controlStates,
  envoyComplianceReport,
  frameworkReport,
  prepareOscalExport,
  reportLimits,
} from '../../compliance/index.ts';
import type { ComplianceService } from '../../compliance/index.ts';
import { VigoError } from '../../core/index.ts';
import type { FleetAdmin } from '../../fleet/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface ComplianceRoutesDeps {
  readonly compliance: ComplianceService;
  readonly admin: FleetAdmin;
  /** `exports.oscal`, read per request (it reloads). */
  readonly oscalEnabled: () => boolean;
  readonly activeVersion: () => number;
}

const int: JsonSchema = { type: 'integer' };
const str: JsonSchema = { type: 'string' };
const stateCounts = { enforced: int, failing: int, waived: int, pending: int };

const frameworkSummary: JsonSchema = {
  type: 'object',
  required: ['framework', 'envoys', 'controls', 'claimed', 'coveragePct', 'failingEnvoys', ...controlStates],
  properties: {
    framework: str,
    envoys: { type: 'integer', description: 'envoys that claim at least one of its controls' },
    controls: { type: 'integer', description: 'distinct controls claimed' },
    claimed: { type: 'integer', description: 'envoy × control pairs' },
    ...stateCounts,
    coveragePct: { type: 'number', description: '(enforced + waived) / claimed × 100' },
    failingEnvoys: int,
  },
};

const waiver: JsonSchema = {
  type: 'object',
  required: [
    'id',
    'source',
    'match',
    'framework',
    'control',
    'reason',
    'owner',
    'expires',
    'expired',
    'envoys',
  ],
  properties: {
    id: str,
    source: { type: 'string', description: 'file:line in the stacks' },
    match: { type: 'array', items: str },
    framework: str,
    control: str,
    reason: str,
    owner: str,
    expires: { type: 'string', description: 'as written: YYYY-MM-DD (whole UTC day) or RFC 3339' },
    expiresAtMs: int,
    expired: { type: 'boolean' },
    envoys: { type: 'integer', description: 'envoys it covers now' },
  },
};

const riskTerms = ['failing', 'drift', 'staleness', 'waivers', 'securityUpdates'] as const;
const risk: JsonSchema = {
  type: 'object',
  required: ['score', 'terms', 'formula'],
  properties: {
    score: { type: 'number', minimum: 0, maximum: 100 },
    terms: {
      type: 'object',
      required: [...riskTerms],
      properties: Object.fromEntries(riskTerms.map((t) => [t, { type: 'number' }])),
    },
    formula: str,
  },
};

const control: JsonSchema = {
  type: 'object',
  required: ['control', 'state', 'resources', 'waivers'],
  properties: {
    control: str,
    state: { enum: [...controlStates] },
    resources: {
      type: 'array',
      items: {
        type: 'object',
        required: ['configcrate', 'resourceId'],
        properties: {
          configcrate: str,
          resourceId: str,
          outcome: { type: 'string', description: 'absent until a run reported it' },
          runId: str,
        },
      },
    },
    waivers: { type: 'array', items: str },
  },
};

const pageQuery = {
  limit: { type: 'integer', min: 1, max: reportLimits.maxLimit },
  offset: { type: 'integer', min: 0, max: 1_000_000_000 },
} as const;

const oscalQuery = {
  framework: { type: 'string', maxLength: 64, description: 'the framework to export (required)' },
  envoys: { type: 'string', maxLength: 253, description: 'hostname glob; every envoy when absent' },
} as const;

export function complianceRoutes(deps: ComplianceRoutesDeps): AnyRoute[] {
  const { compliance } = deps;
  return [
    route({
      method: 'GET',
      path: '/api/v1/compliance',
      summary: 'Framework compliance of the fleet: envoys, controls and coverage per framework',
      tag: 'compliance',
      access: 'compliance.read',
      response: {
        type: 'object',
        required: ['frameworks', 'envoys', 'waivers', 'riskFormula'],
        properties: {
          frameworks: { type: 'array', items: frameworkSummary },
          envoys: int,
          waivers: {
            type: 'object',
            required: ['active', 'expired'],
            properties: { active: int, expired: int },
          },
          riskFormula: str,
        },
      },
      handler: ({ c }) => c.json(complianceOverview(compliance)),
    }),
    route<Record<never, never>, typeof pageQuery>({
      method: 'GET',
      path: '/api/v1/compliance/frameworks/{framework}',
      summary: "One framework: each control's envoys by state, and the envoys failing a control (paged)",
      tag: 'compliance',
      access: 'compliance.read',
      query: pageQuery,
      errors: ['compliance.framework_unknown'],
      response: {
        type: 'object',
        required: [...(frameworkSummary['required'] as string[]), 'controlList', 'failingEnvoyPage'],
        properties: {
          ...(frameworkSummary['properties'] as Record<string, JsonSchema>),
          controlList: {
            type: 'array',
            items: {
              type: 'object',
              required: ['control', 'envoys', ...controlStates],
              properties: { control: str, envoys: int, ...stateCounts },
            },
          },
          failingEnvoyPage: {
            type: 'object',
            required: ['items', 'total', 'offset', 'limit'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['envoyId', 'hostname', 'failing'],
                  properties: { envoyId: str, hostname: str, failing: { type: 'array', items: str } },
                },
              },
              total: int,
              offset: int,
              limit: int,
            },
          },
        },
      },
      handler: ({ c, param, query }) => c.json(frameworkReport(compliance, param('framework'), query)),
    }),
    route({
      method: 'GET',
      path: '/api/v1/compliance/envoys/{id}',
      summary:
        "An envoy's compliance per framework and control, with claiming resources, waivers and risk score",
      tag: 'compliance',
      access: 'compliance.read',
      errors: ['fleet.envoy_not_found', 'fleet.envoy_revoked'],
      response: {
        type: 'object',
        required: ['envoyId', 'hostname', 'entryId', 'frameworks', 'activeWaivers', 'risk', 'waiverDetails'],
        properties: {
          envoyId: str,
          hostname: str,
          entryId: { type: ['string', 'null'] },
          computedAtMs: int,
          frameworks: {
            type: 'array',
            items: {
              type: 'object',
              required: ['framework', 'controls', 'claimed', 'coveragePct', ...controlStates],
              properties: {
                framework: str,
                controls: { type: 'array', items: control },
                claimed: int,
                ...stateCounts,
                coveragePct: { type: 'number' },
              },
            },
          },
          activeWaivers: { type: 'array', items: str },
          risk,
          waiverDetails: { type: 'array', items: waiver },
        },
      },
      handler: ({ c, param }) => {
        const entry = deps.admin.get(param('id'));
        const report = envoyComplianceReport(compliance, entry.id);
        if (report === undefined)
          throw new VigoError(
            'fleet.envoy_revoked',
            `envoy ${entry.id} is revoked; it has no compliance status`,
          );
        return c.json(report);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/compliance/waivers',
      summary: 'Every waiver of the active configuration, with its expiry and the envoys it covers now',
      tag: 'compliance',
      access: 'compliance.read',
      response: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: waiver } },
      },
      handler: ({ c }) => c.json({ items: compliance.waivers() }),
    }),
    route<Record<never, never>, typeof oscalQuery>({
      method: 'GET',
      path: '/api/v1/export/oscal',
      summary: 'OSCAL 1.0.4 assessment-results (JSON) of one framework over the envoys matching a glob',
      tag: 'export',
      access: 'compliance.read',
      query: oscalQuery,
      errors: ['export.disabled', 'compliance.framework_unknown'],
      response: {
        type: 'object',
        required: ['assessment-results'],
        description: 'NIST OSCAL assessment-results; see docs/compliance.md for the mapping',
        properties: { 'assessment-results': { type: 'object' } },
      },
      handler: async ({ c, query }) => {
        if (!deps.oscalEnabled())
          throw new VigoError(
            'export.disabled',
            'the OSCAL export is off; set exports.oscal: true in server.yaml',
          );
        if (query.framework === undefined)
          throw new VigoError('request.invalid', 'framework: required (e.g. ?framework=cis)', {
            field: 'framework',
          });
        checkFramework(query.framework);
        const prepared = await prepareOscalExport(
          compliance,
          { framework: query.framework, ...(query.envoys === undefined ? {} : { envoys: query.envoys }) },
          { version: deps.activeVersion },
        );
        // Streamed in chunks: a fleet-wide export is tens of megabytes and never sits whole in memory.
        const chunks = prepared.chunks();
        const encoder = new TextEncoder();
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = await chunks.next();
            if (next.done === true) controller.close();
            else controller.enqueue(encoder.encode(next.value));
          },
          async cancel() {
            await chunks.return(undefined);
          },
        });
        return c.body(stream, 200, { 'content-type': 'application/json; charset=utf-8' });
      },
    }),
  ];
}
