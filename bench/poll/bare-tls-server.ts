/**
 * The floor of bench:poll: a bare node TLS server with vigosrv's own key, certificate and CA, client
 * certificates required, that writes one byte and closes each connection. Tickets use node's built-in
 * ticket key. Run as a child process; it sends its port to the parent over IPC.
 *
 *   node --import tsx bench/poll/bare-tls-server.ts <tls-dir>
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer } from 'node:tls';

const tlsDir = process.argv[2];
if (tlsDir === undefined || process.send === undefined) {
  throw new Error("usage: a child process with IPC, given the data directory's tls/ directory");
}
const send = process.send.bind(process);
const server = createServer({
  ca: readFileSync(join(tlsDir, 'ca.crt')),
  cert: readFileSync(join(tlsDir, 'server.crt')),
  key: readFileSync(join(tlsDir, 'server.key')),
  requestCert: true,
  rejectUnauthorized: true,
  ALPNProtocols: ['h2'],
  sessionTimeout: 3600,
});
server.on('secureConnection', (socket) => {
  socket.on('error', () => undefined);
  // A write makes OpenSSL send its session tickets, as the HTTP/2 settings do on vigosrv.
  socket.end('x');
});
server.listen(0, '127.0.0.1', () => send((server.address() as AddressInfo).port));
process.on('disconnect', () => server.close());
