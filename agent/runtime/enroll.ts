/**
 * `vigo enroll`: generate this host's ed25519 signing key and TLS key, send the public key and a CSR
 * with the one-time token to the server over HTTPS (trusting only the given CA), and store the
 * identity the server issues. Keys never leave the host; a failed enrollment stores nothing.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { rawFromPublicKey } from '../../protocol/index.ts';
import type { AgentIdentity, StatePaths } from './state-dir.ts';
import { ensureDir, writeFileAtomic } from './state-dir.ts';

export interface EnrollOptions {
  /** host:port of the server's HTTPS API. */
  server: string;
  token: string;
  hostname: string;
  caPem: string;
  paths: StatePaths;
}

interface EnrollReply {
  envoyId: string;
  clientCertPem: string;
  caCertPem: string;
  bundlePublicKey: string;
  grpcAddress: string;
  reenrolled: boolean;
}

export class EnrollError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

function post(url: URL, body: string, caPem: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', ca: caPem, headers: { 'content-type': 'application/json' }, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function enroll(options: EnrollOptions): Promise<AgentIdentity> {
  // Loaded here only: the daemon never needs the X.509 library.
  const { generateAgentKeyAndCsr } = await import('../../server/pki/index.ts');
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const { keyPem, csrPem } = await generateAgentKeyAndCsr(options.hostname);
  const url = new URL('/api/v1/enroll', `https://${options.server}`);
  let reply: { status: number; text: string };
  try {
    reply = await post(
      url,
      JSON.stringify({
        token: options.token,
        hostname: options.hostname,
        publicKey: rawFromPublicKey(publicKey).toString('base64'),
        csr: csrPem,
      }),
      options.caPem,
    );
  } catch (err) {
    throw new EnrollError(`cannot reach ${url.origin}: ${(err as Error).message}`, 'unreachable');
  }
  if (reply.status !== 200 && reply.status !== 201) {
    let code = 'refused';
    let message = reply.text.slice(0, 500);
    try {
      const parsed = JSON.parse(reply.text) as { code?: string; message?: string };
      code = parsed.code ?? code;
      message = parsed.message ?? message;
    } catch {
      // not an error envelope: keep the raw text
    }
    throw new EnrollError(`the server refused enrollment (${code}): ${message}`, code);
  }
  const body = JSON.parse(reply.text) as EnrollReply;
  const identity: AgentIdentity = {
    envoyId: body.envoyId,
    hostname: options.hostname,
    // The server answers with the host this request was addressed to (or the address its operator
    // configured for agents), so the address is dialled as given.
    grpcAddress: body.grpcAddress,
    apiUrl: url.origin,
    bundlePublicKey: body.bundlePublicKey,
    enrolledAtMs: Date.now(),
  };
  const { paths } = options;
  ensureDir(paths.root);
  ensureDir(path.dirname(paths.signingKeyFile));
  writeFileAtomic(paths.signingKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  writeFileAtomic(paths.tlsKeyFile, keyPem);
  writeFileAtomic(paths.tlsCertFile, body.clientCertPem);
  writeFileAtomic(paths.caFile, body.caCertPem);
  // A new identity invalidates what the old one cached or queued.
  fs.rmSync(paths.bundleFile, { force: true });
  fs.rmSync(paths.queueDir, { recursive: true, force: true });
  writeFileAtomic(paths.identityFile, `${JSON.stringify(identity, null, 2)}\n`);
  return identity;
}
