/**
 * REST routes of the enroll module:
 *   POST   /api/v1/enroll              open: a host enrolls with a token (rate-limited per address)
 *   POST   /api/v1/enroll/tokens       fleet.write: create a token (the secret is in this reply only), with
 *                                       the install command for hosts (vigocli and the web UI print it)
 *   GET    /api/v1/enroll/tokens       fleet.read: list tokens (never secrets or hashes)
 *   DELETE /api/v1/enroll/tokens/{id}  fleet.write: revoke a token
 */
import type { BootstrapService } from '../../bootstrap/index.ts';
import type { EnrollService } from '../../enroll/index.ts';
import { tokenLimits } from '../../enroll/index.ts';
import { sourceAddress } from '../peer.ts';
import type { AnyRoute } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface EnrollRoutesDeps {
  readonly enroll: EnrollService;
  /** Builds the install command a new token's reply carries. */
  readonly bootstrap: Pick<BootstrapService, 'installCommand'>;
}

const enrollBody = {
  token: { type: 'string', maxLength: 256 },
  hostname: { type: 'string', maxLength: 1024 },
  publicKey: { type: 'string', maxLength: 256 },
  csr: { type: 'string', maxLength: 32 * 1024 },
} as const;

const createTokenBody = {
  hostnameGlobs: { type: 'string-array', maxItems: 1000, maxItemLength: 1024 },
  uses: { type: 'integer', optional: true },
  expiresIn: { type: 'string', optional: true, maxLength: 64 },
  description: { type: 'string', optional: true, maxLength: 4096 },
} as const;

const installSchema = {
  type: 'object',
  required: ['command', 'caSha256', 'tokenFile', 'tokenFileHint'],
  description:
    'The line to run on a host: pins the CA by SHA-256, fetches /bootstrap over verified TLS and reads the token from tokenFile (never from the command line)',
  properties: {
    command: { type: 'string', description: 'one line of POSIX sh' },
    caSha256: { type: 'string', description: "hex SHA-256 of the CA certificate's DER form" },
    tokenFile: {
      type: 'string',
      description: 'the file, relative to where the command runs, holding the token',
    },
    tokenFileHint: { type: 'string', description: 'a command that writes the pasted token to that file' },
  },
} as const;
const tokenSchema = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;
const enrollResponse = {
  type: 'object',
  additionalProperties: false,
  required: [
    'envoyId',
    'hostname',
    'clientCertPem',
    'caCertPem',
    'bundlePublicKey',
    'bundleKeyId',
    'grpcAddress',
    'reenrolled',
  ],
  properties: {
    envoyId: { type: 'string', description: 'the envoy id (UUID text); every signed envelope names it' },
    hostname: { type: 'string', description: 'the hostname as stored (lower case)' },
    clientCertPem: {
      type: 'string',
      description: 'TLS client certificate: CN = envoy id, SAN URI urn:vigo:envoy:<id>, EKU clientAuth',
    },
    caCertPem: { type: 'string', description: 'the CA to trust for the gRPC connection' },
    bundlePublicKey: {
      type: 'string',
      description: "base64 of the server's raw 32-byte Ed25519 bundle-signing key: pin it",
    },
    bundleKeyId: { type: 'string', description: 'first 16 hex characters of SHA-256 over that key' },
    grpcAddress: { type: 'string', description: 'host:port to dial for gRPC (docs/agent-protocol.md)' },
    reenrolled: { type: 'boolean', description: 'an envoy of this hostname existed: same id, new keys' },
  },
} as const;
const listQuery = { limit: { type: 'integer', min: 1, max: tokenLimits.maxListLimit } } as const;

export function enrollRoutes(deps: EnrollRoutesDeps): AnyRoute[] {
  return [
    route<typeof enrollBody>({
      method: 'POST',
      path: '/api/v1/enroll',
      summary:
        'Enroll a host with a one-time token: envoy id, client certificate, CA, signing key, gRPC address',
      tag: 'enroll',
      access: 'public',
      errors: [
        'enroll.hostname_invalid',
        'enroll.key_invalid',
        'pki.csr_invalid',
        'enroll.token_invalid',
        'enroll.token_expired',
        'enroll.token_used_up',
        'enroll.token_revoked',
        'enroll.hostname_not_allowed',
        'enroll.conflict',
        'rate_limited',
        'audit.chain_broken',
      ],
      body: enrollBody,
      deferBody: true,
      response: enrollResponse,
      handler: async ({ c, readBody }) =>
        c.json(
          await deps.enroll.enroll({
            sourceIp: sourceAddress(c),
            // The Host (or :authority) the agent addressed: the enroll module validates it.
            requestHost: new URL(c.req.url).hostname,
            log: c.get('log'),
            readInput: readBody,
          }),
          200,
        ),
    }),
    route<typeof createTokenBody>({
      method: 'POST',
      path: '/api/v1/enroll/tokens',
      summary: 'Create an enrollment token (its secret is in this reply only)',
      tag: 'enroll',
      access: 'fleet.write',
      errors: ['enroll.glob_invalid'],
      body: createTokenBody,
      success: [201],
      response: {
        type: 'object',
        required: ['id', 'token', 'install'],
        properties: { id: { type: 'string' }, token: { type: 'string' }, install: installSchema },
      },
      handler: async ({ c, ctx, body }) =>
        c.json(
          { ...(await deps.enroll.createToken(ctx, body)), install: deps.bootstrap.installCommand() },
          201,
        ),
    }),
    route<Record<never, never>, typeof listQuery>({
      method: 'GET',
      path: '/api/v1/enroll/tokens',
      summary: 'Enrollment tokens (never secrets or hashes)',
      tag: 'enroll',
      access: 'fleet.read',
      query: listQuery,
      response: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: tokenSchema } },
      },
      handler: ({ c, ctx, query }) => c.json(deps.enroll.listTokens(ctx, { limit: query.limit })),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/enroll/tokens/{id}',
      summary: 'Revoke an enrollment token',
      tag: 'enroll',
      access: 'fleet.write',
      errors: ['enroll.token_not_found'],
      response: tokenSchema,
      handler: ({ c, ctx, param }) => c.json(deps.enroll.revokeToken(ctx, param('id'))),
    }),
  ];
}
