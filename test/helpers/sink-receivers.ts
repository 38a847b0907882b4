/**
 * Real receivers on loopback for the event sinks' tests: an HTTP server that records every request, a
 * syslog listener (TCP or TLS) that splits RFC 6587 octet-counted frames, and an SMTP server (smtp-server)
 * with STARTTLS and AUTH. Each closes with the test.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { SMTPServer } from 'smtp-server';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpReceiver {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Decides the answer to each request (default 200 "{}"). */
  respond: (req: RecordedRequest) => { status: number; body?: string };
}

function port(server: net.Server): number {
  return (server.address() as AddressInfo).port;
}

async function listen(t: TestContext, server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return port(server);
}

export async function startHttpReceiver(t: TestContext): Promise<HttpReceiver> {
  const receiver: HttpReceiver = {
    url: '',
    requests: [],
    respond: () => ({ status: 200, body: '{}' }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      receiver.requests.push(recorded);
      const answer = receiver.respond(recorded);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body ?? '{}');
    });
  });
  const p = await listen(t, server);
  return Object.assign(receiver, { url: `http://127.0.0.1:${p}` });
}

/** A port with nothing listening (bound, then closed), for a dead endpoint. */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const p = port(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return p;
}

export interface SyslogReceiver {
  readonly port: number;
  readonly messages: string[];
}

/** Splits octet-counted frames ("<len> <msg>"), keeping a partial frame for the next chunk. */
export function octetFrames(onMessage: (message: string) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const space = pending.indexOf(0x20);
      if (space < 0) return;
      const length = Number(pending.subarray(0, space).toString('ascii'));
      if (!Number.isSafeInteger(length) || length <= 0) throw new Error('bad octet count');
      if (pending.length < space + 1 + length) return;
      onMessage(pending.subarray(space + 1, space + 1 + length).toString('utf8'));
      pending = pending.subarray(space + 1 + length);
    }
  };
}

export async function startSyslogReceiver(
  t: TestContext,
  tlsOptions?: { key: string; cert: string },
): Promise<SyslogReceiver> {
  const messages: string[] = [];
  const onSocket = (socket: net.Socket): void => {
    const feed = octetFrames((m) => messages.push(m));
    socket.on('data', (chunk: Buffer) => {
      try {
        feed(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
  };
  const server =
    tlsOptions === undefined
      ? net.createServer(onSocket)
      : tls.createServer({ ...tlsOptions, minVersion: 'TLSv1.2' }, onSocket);
  const sockets = new Set<net.Socket>();
  server.on(tlsOptions === undefined ? 'connection' : 'secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  return { port: await listen(t, server), messages };
}

export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
  readonly secure: boolean;
  readonly user: string | undefined;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Failed AUTH attempts. */
  readonly refusedLogins: string[];
}

export async function startSmtpReceiver(
  t: TestContext,
  options: { key: string; cert: string; user: string; password: string },
): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const refusedLogins: string[] = [];
  const server = new SMTPServer({
    key: options.key,
    cert: options.cert,
    secure: false,
    // Refuse AUTH before STARTTLS, as a real submission server does.
    allowInsecureAuth: false,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password)
        return callback(null, { user: auth.username });
      refusedLogins.push(auth.username ?? '');
      return callback(new Error('invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address() as AddressInfo;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: address.port, mails, refusedLogins };
}
