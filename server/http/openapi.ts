/**
 * The OpenAPI 3.1 document, generated from the route table: the same body and query rules that validate
 * requests describe them here, so the document cannot drift from what the server accepts.
 */
import { errorCatalog } from '../core/index.ts';
import type { ErrorCode } from '../core/index.ts';
import { httpStatusByKind } from './error-map.ts';
import type { FieldRule } from './json-body.ts';
import type { QueryRule } from './query.ts';
import type { AnyRoute, JsonSchema } from './route-table.ts';

export const openApiPath = '/api/v1/openapi.json';

function fieldSchema(rule: FieldRule): JsonSchema {
  switch (rule.type) {
    case 'string':
      return { type: 'string', maxLength: rule.maxLength };
    case 'integer':
      return { type: 'integer' };
    case 'boolean':
      return { type: 'boolean' };
    case 'files':
      return {
        type: 'array',
        maxItems: rule.maxItems,
        items: {
          type: 'object',
          required: ['path', 'content'],
          additionalProperties: false,
          properties: { path: { type: 'string' }, content: { type: 'string' } },
        },
      };
    case 'json':
      return rule.schema;
    case 'string-array':
      return {
        type: 'array',
        maxItems: rule.maxItems,
        items: { type: 'string', maxLength: rule.maxItemLength },
      };
  }
}

function querySchema(rule: QueryRule): JsonSchema {
  switch (rule.type) {
    case 'string':
      return { type: 'string', maxLength: rule.maxLength };
    case 'integer':
      return { type: 'integer', minimum: rule.min, maximum: rule.max };
    case 'enum':
      return { type: 'string', enum: [...rule.values] };
    case 'boolean':
      return { type: 'boolean' };
  }
}

function bodySchema(rules: Readonly<Record<string, FieldRule>>): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.entries(rules)
      .filter(([, rule]) => rule.optional !== true)
      .map(([name]) => name),
    properties: Object.fromEntries(Object.entries(rules).map(([name, rule]) => [name, fieldSchema(rule)])),
  };
}

const statusDescriptions: Readonly<Record<string, string>> = {
  '400': 'The request is invalid: a field, a parameter or the body (see code and message)',
  '401': 'No valid credential was presented',
  '403': 'The caller may not do this',
  '404': 'What the request names does not exist',
  '409': 'The request conflicts with the current state',
  '412': 'A precondition does not hold',
  '413': 'The body is larger than allowed',
  '429': 'Too many requests: wait for Retry-After seconds',
  '500': 'An internal error (logged on the server, never detailed)',
  '503': 'The server cannot take this now: retry after Retry-After seconds',
};

/**
 * Every code a route can answer: the refusals the route table itself raises before the handler runs,
 * derived from the route's declaration (so they cannot drift), and the codes its handler declares.
 */
export function routeErrorCodes(r: AnyRoute): ErrorCode[] {
  const codes = new Set<ErrorCode>(['request.invalid']);
  if (r.access !== 'public') codes.add('auth.required');
  if (r.access !== 'public' && r.method !== 'GET') codes.add('auth.csrf');
  if (r.access !== 'public' && r.access !== 'authenticated') codes.add('auth.forbidden');
  // Every privileged change is audited in its own transaction: a damaged chain refuses it.
  if (r.method !== 'GET' && r.access !== 'public' && r.access !== 'authenticated')
    codes.add('audit.chain_broken');
  if (r.body !== undefined) {
    codes.add('request.too_large');
    codes.add('request.busy');
    codes.add('server.busy');
  }
  for (const code of r.errors ?? []) codes.add(code);
  codes.add('internal');
  return [...codes];
}

function errorResponses(r: AnyRoute): Record<string, unknown> {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of routeErrorCodes(r)) {
    const status = String(httpStatusByKind[errorCatalog[code]]);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      status,
      {
        description: `${statusDescriptions[status] ?? 'Refused'}: ${codes.map((c) => `\`${c}\``).join(', ')}`,
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: '#/components/schemas/Error' },
                { type: 'object', properties: { code: { enum: codes } } },
              ],
            },
          },
        },
      },
    ]),
  );
}

function operation(r: AnyRoute): Record<string, unknown> {
  const pathParams = [...r.path.matchAll(/\{([a-zA-Z]+)\+?\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const queryParams = Object.entries(r.query ?? {}).map(([name, rule]) => ({
    name,
    in: 'query',
    required: false,
    schema: querySchema(rule),
    ...(rule.description === undefined ? {} : { description: rule.description }),
  }));
  const produces = r.produces ?? 'application/json';
  const success = Object.fromEntries(
    (r.success ?? [200]).map((status) => [
      String(status),
      {
        description: 'Success',
        content: { [produces]: r.response === undefined ? {} : { schema: r.response } },
      },
    ]),
  );
  return {
    operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    summary: r.summary,
    tags: [r.tag],
    'x-vigo-access': r.access,
    ...(r.access === 'public' ? { security: [] } : {}),
    parameters: [...pathParams, ...queryParams],
    ...(r.body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: bodySchema(r.body) } } } }),
    responses: { ...success, ...errorResponses(r) },
  };
}

export interface OpenApiInfo {
  readonly version: string;
}

export function buildOpenApiDocument(
  routes: readonly AnyRoute[],
  info: OpenApiInfo,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (r.hidden === true) continue;
    const key = r.path.replace(/\{([a-zA-Z]+)\+\}/g, '{$1}');
    (paths[key] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vigo server API',
      version: info.version,
      description:
        'Every route names the permission it needs in `x-vigo-access`. Authenticate with ' +
        '`Authorization: Bearer vgot_…` (API token) or a web session cookie plus the `X-CSRF-Token` header.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token vgot_… or the local-admin token' },
        session: { type: 'apiKey', in: 'cookie', name: '__Host-vigo_session' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message', 'requestId'],
          properties: {
            code: { type: 'string', enum: Object.keys(errorCatalog) },
            message: { type: 'string' },
            requestId: { type: 'string' },
            diagnostics: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
  };
}
