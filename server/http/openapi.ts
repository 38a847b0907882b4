/**
 * The OpenAPI 3.1 document, generated from the route table: the same body and query rules that validate
 * requests describe them here, so the document cannot drift from what the server accepts.
 */
import { errorCatalog } from '../core/index.ts';
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

const errorResponses: Record<string, string> = {
  '400': 'The request is invalid: a field, a parameter or the body (see code and message)',
  '401': 'No valid credential was presented',
  '403': 'The caller lacks the permission this route needs',
  '413': 'The body is larger than allowed',
};

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
  const errors = Object.fromEntries(
    Object.entries(errorResponses)
      .filter(([status]) => r.access !== 'public' || (status !== '401' && status !== '403'))
      .map(([status, description]) => [
        status,
        { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
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
    responses: { ...success, ...errors },
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
