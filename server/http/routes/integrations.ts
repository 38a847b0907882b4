/**
 * Event sinks (server.yaml `integrations:`, docs/integrations.md):
 *   GET  /api/v1/integrations              each target's type, endpoint, queue depth and delivery health
 *   POST /api/v1/integrations/{name}/test  queue a test event for one target and report its first try (audited)
 * Reading needs fleet.read, like the event stream the sinks carry; the answer holds no credential and no
 * URL path. Sending a test needs admin: it reaches outside systems and pages people.
 */
import type { Integrations } from '../../integrations/index.ts';
import type { AnyRoute, JsonSchema } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface IntegrationRoutesDeps {
  readonly integrations: Integrations;
}

const nullableTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };

const statusSchema: JsonSchema = {
  type: 'object',
  required: [
    'name',
    'type',
    'endpoint',
    'events',
    'minSeverity',
    'queueDepth',
    'delivered',
    'retried',
    'dead',
    'lastSuccessAt',
    'lastErrorAt',
    'lastError',
    'health',
  ],
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: ['webhook', 'email', 'syslog', 'splunk_hec', 'loki', 'elastic'] },
    endpoint: { type: 'string', description: 'scheme, host and port only' },
    events: { type: 'array', items: { type: 'string' } },
    minSeverity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    queueDepth: { type: 'integer', description: 'deliveries pending in the durable queue' },
    delivered: { type: 'integer', description: 'since this server started' },
    retried: { type: 'integer', description: 'failed tries followed by another, since this server started' },
    dead: {
      type: 'integer',
      description: 'given up, refused or dropped from a full queue, since this server started',
    },
    lastSuccessAt: nullableTime,
    lastErrorAt: nullableTime,
    lastError: { type: ['string', 'null'] },
    health: { type: 'string', enum: ['healthy', 'failing', 'idle'] },
  },
};

export function integrationRoutes(deps: IntegrationRoutesDeps): AnyRoute[] {
  const tag = 'integrations';
  return [
    route({
      method: 'GET',
      path: '/api/v1/integrations',
      summary: 'Event sink targets and their delivery health',
      tag,
      access: 'fleet.read',
      response: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: statusSchema } },
      },
      handler: ({ c }) => c.json({ items: deps.integrations.list() }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/integrations/{name}/test',
      summary: 'Send a test event to one target and wait briefly for the first try',
      tag,
      access: 'admin',
      errors: ['integrations.target_not_found'],
      response: {
        type: 'object',
        required: ['target', 'deliveryId', 'outcome', 'error'],
        properties: {
          target: { type: 'string' },
          deliveryId: { type: 'string' },
          outcome: { type: 'string', enum: ['delivered', 'retried', 'dead', 'pending'] },
          error: { type: ['string', 'null'] },
        },
      },
      handler: async ({ c, ctx, param }) => c.json(await deps.integrations.test(ctx, param('name'))),
    }),
  ];
}
