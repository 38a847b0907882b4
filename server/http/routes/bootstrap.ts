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
import type { Context, Hono } from 'hono';
import { isVigoError } from '../../core/index.ts';
import type { BootstrapService } from '../../bootstrap/index.ts';
import type { HttpEnv } from '../app.ts';

export interface BootstrapRoutesDeps {
  readonly bootstrap: BootstrapService;
}

const agentModuleName = 'vigo.mjs';

async function withRetryAfter(c: Context<HttpEnv>, respond: () => Promise<Response>): Promise<Response> {
  try {
    return await respond();
  } catch (err) {
    if (isVigoError(err) && err.code === 'bootstrap.agent_unavailable') {
      const retryAfterSeconds = err.details['retryAfterSeconds'];
      c.header('Retry-After', String(typeof retryAfterSeconds === 'number' ? retryAfterSeconds : 30));
    }
    throw err;
  }
}

/** Mounts the bootstrap routes; pass it in `HttpAppDeps.routes`. */
export function bootstrapRoutes(deps: BootstrapRoutesDeps): (app: Hono<HttpEnv>) => void {
  const { bootstrap } = deps;
  return (app) => {
    app.get('/bootstrap', (c) =>
      c.body(bootstrap.script(), 200, {
        'Content-Type': 'text/x-shellscript; charset=utf-8',
        'Cache-Control': 'no-store',
      }),
    );

    app.get(`/bootstrap/${agentModuleName}`, (c) =>
      withRetryAfter(c, async () => {
        const artifact = await bootstrap.artifact();
        return c.body(artifact.bytes, 200, {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Content-Disposition': `attachment; filename="${agentModuleName}"`,
          'X-Checksum-Sha256': artifact.sha256,
          ETag: `"${artifact.sha256}"`,
          'Cache-Control': 'no-cache',
        });
      }),
    );

    app.get(`/bootstrap/${agentModuleName}.sha256`, (c) =>
      withRetryAfter(c, async () => {
        const artifact = await bootstrap.artifact();
        return c.body(`${artifact.sha256}  ${agentModuleName}\n`, 200, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-cache',
        });
      }),
    );

    app.get('/bootstrap/ca.crt', (c) =>
      c.body(bootstrap.caCertPem(), 200, {
        'Content-Type': 'application/x-pem-file',
        'Cache-Control': 'no-cache',
      }),
    );
  };
}
