/**
 * Routes a host uses before it has any credential of its own, so all are open:
 *   GET /bootstrap                 the POSIX sh install script (`curl -sSfk …/bootstrap | sudo sh -s -- --token T`)
 *   GET /bootstrap/vigo.mjs        the agent, one self-contained ES module (X-Checksum-Sha256)
 *   GET /bootstrap/vigo.mjs.sha256 its checksum in sha256sum format
 *   GET /bootstrap/ca.crt          the CA certificate (PEM)
 * The enrollment token is the credential; it goes to POST /api/v1/enroll, never here. Query parameters
 * are ignored on purpose: the script names only this server's configured address, so the endpoint
 * cannot be used to hand out a script that downloads from somewhere else.
 */
import type { BootstrapService } from '../../bootstrap/index.ts';
import type { AnyRoute } from '../route-table.ts';
import { route } from '../route-table.ts';

export interface BootstrapRoutesDeps {
  readonly bootstrap: BootstrapService;
}

const agentModuleName = 'vigo.mjs';

const open = { tag: 'bootstrap', access: 'public' } as const;

export function bootstrapRoutes(deps: BootstrapRoutesDeps): AnyRoute[] {
  const { bootstrap } = deps;
  return [
    route({
      ...open,
      method: 'GET',
      path: '/bootstrap',
      summary: 'POSIX sh script that installs and enrolls the agent',
      // Query parameters are ignored, not refused: `curl …/bootstrap?os=linux` from Vigo's docs keeps working.
      ignoreUnknownQuery: true,
      produces: 'text/x-shellscript',
      handler: ({ c }) =>
        c.body(bootstrap.script(), 200, {
          'Content-Type': 'text/x-shellscript; charset=utf-8',
          'Cache-Control': 'no-store',
        }),
    }),
    route({
      ...open,
      method: 'GET',
      path: `/bootstrap/${agentModuleName}`,
      summary: 'The agent as one ES module (checksum in X-Checksum-Sha256)',
      errors: ['bootstrap.agent_unavailable'],
      produces: 'text/javascript',
      handler: async ({ c }) => {
        const artifact = await bootstrap.artifact();
        return c.body(artifact.bytes, 200, {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Content-Disposition': `attachment; filename="${agentModuleName}"`,
          'X-Checksum-Sha256': artifact.sha256,
          ETag: `"${artifact.sha256}"`,
          'Cache-Control': 'no-cache',
        });
      },
    }),
    route({
      ...open,
      method: 'GET',
      path: `/bootstrap/${agentModuleName}.sha256`,
      summary: "The agent's SHA-256 in sha256sum format",
      errors: ['bootstrap.agent_unavailable'],
      produces: 'text/plain',
      handler: async ({ c }) => {
        const artifact = await bootstrap.artifact();
        return c.body(`${artifact.sha256}  ${agentModuleName}\n`, 200, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-cache',
        });
      },
    }),
    route({
      ...open,
      method: 'GET',
      path: '/bootstrap/ca.crt',
      summary: 'The CA certificate (PEM)',
      produces: 'application/x-pem-file',
      handler: ({ c }) =>
        c.body(bootstrap.caCertPem(), 200, {
          'Content-Type': 'application/x-pem-file',
          'Cache-Control': 'no-cache',
        }),
    }),
  ];
}
