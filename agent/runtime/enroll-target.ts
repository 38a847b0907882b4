/**
 * Where `vigo enroll --server` points: the server's HTTPS API, given as `https://host:port` (as
 * vigocli takes it) or as bare `host:port`. A common mistake is the agent (gRPC) port, 1530 by
 * default, which an agent dials only after enrolling; when an enrollment cannot reach the server,
 * the agent asks the address itself what it is, so the hint does not depend on the port number.
 */
import { connect } from 'node:tls';

export const defaultApiPort = 8443;
const maxServerLength = 300;

export class ServerAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerAddressError';
  }
}

/** `host:port` of the API, from `https://host[:port][/]` or `host:port`; throws ServerAddressError. */
export function parseEnrollServer(text: string): string {
  if (text.length > maxServerLength)
    throw new ServerAddressError(`--server is longer than ${maxServerLength} characters`);
  const example = `https://host:${defaultApiPort}`;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ServerAddressError(
      `--server ${JSON.stringify(text)} is not an address; give one like ${example}`,
    );
  }
  if (url.protocol !== 'https:')
    throw new ServerAddressError(
      `--server ${text}: vigosrv serves its API over HTTPS only; use https://${url.host || `host:${defaultApiPort}`}`,
    );
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.pathname !== '/'
  )
    throw new ServerAddressError(`--server ${text}: give only the scheme, host and port, e.g. ${example}`);
  if (url.hostname === '') throw new ServerAddressError(`--server ${text} names no host; e.g. ${example}`);
  // new URL drops the scheme's default port (443); the agent always names the port it dials.
  return `${url.hostname}:${url.port === '' ? '443' : url.port}`;
}

export function agentPortHint(hostPort: string): string {
  const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
  return (
    `${hostPort} is the agent (gRPC) port, which agents use only after enrolling; ` +
    `use the API port, e.g. https://${host}:${defaultApiPort}`
  );
}

/**
 * Whether `hostPort` answers as vigosrv's agent port does: a TLS server, trusted by `caPem`, that
 * picks HTTP/2 by ALPN and then refuses a client without a certificate. The API port picks no
 * HTTP/2 and serves anyone. Resolves false on any other answer or none within `timeoutMs`.
 */
export function answersAsAgentPort(hostPort: string, caPem: string, timeoutMs = 3000): Promise<boolean> {
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(colon + 1));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (verdict: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict);
    };
    const socket = connect({
      host,
      port,
      ca: caPem,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') finish(false);
    });
    // TLS 1.3: the refusal of a client without a certificate arrives after the client's handshake.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const text = `${err.code ?? ''} ${err.message}`;
      finish(/certificate required|CERTIFICATE_REQUIRED|peer did not return a certificate/i.test(text));
    });
    socket.on('close', () => finish(false));
  });
}
