/**
 * TLS 1.3 links between peers. Both ends present their peer certificate (peer-identity.ts) and accept only
 * a certificate whose fingerprint one of their `peers:` entries pins; nothing is read from a link before
 * that check.
 */
import tls from 'node:tls';
import type { PeerConfig } from './config.ts';
import type { PeerIdentity } from './peer-identity.ts';
import { fingerprintOf } from './peer-identity.ts';
import { FrameChannel, protocolError } from './wire.ts';

/** The pinned peer a TLS socket authenticated as, or undefined. */
export function pinnedPeer(socket: tls.TLSSocket, peers: readonly PeerConfig[]): PeerConfig | undefined {
  const cert = socket.getPeerCertificate();
  if (cert === null || cert.raw === undefined) return undefined;
  const fingerprint = fingerprintOf(cert.raw);
  return peers.find((peer) => peer.fingerprint === fingerprint);
}

export function listenForPeers(options: {
  identity: PeerIdentity;
  peers: () => readonly PeerConfig[];
  host: string;
  port: number;
  handshakeTimeoutMs: number;
  onLink: (channel: FrameChannel, peer: PeerConfig) => void;
  onRefused: (why: string, remote: string) => void;
}): Promise<tls.Server> {
  const server = tls.createServer(
    {
      key: options.identity.keyPem,
      cert: options.identity.certPem,
      requestCert: true,
      // Self-signed peer certificates: the fingerprint pin below is the check, not a CA chain.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      handshakeTimeout: options.handshakeTimeoutMs,
    },
    (socket) => {
      const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
      const peer = pinnedPeer(socket, options.peers());
      if (peer === undefined) {
        options.onRefused('its certificate is not pinned by any peers: entry', remote);
        socket.destroy();
        return;
      }
      options.onLink(new FrameChannel(socket), peer);
    },
  );
  server.on('tlsClientError', (err, socket) => {
    options.onRefused(`TLS handshake failed: ${err.message}`, `${socket.remoteAddress ?? '?'}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host === '' ? undefined : options.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function dialPeer(identity: PeerIdentity, peer: PeerConfig, timeoutMs: number): Promise<FrameChannel> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: peer.address.host,
      port: peer.address.port,
      key: identity.keyPem,
      cert: identity.certPem,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      servername: undefined,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(protocolError(`no TLS session with peer ${peer.name} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      if (pinnedPeer(socket, [peer]) === undefined) {
        socket.destroy();
        reject(
          protocolError(`peer ${peer.name} presented a certificate whose fingerprint is not the pinned one`),
        );
        return;
      }
      resolve(new FrameChannel(socket));
    });
  });
}
