/**
 * systemd's service notification (sd_notify(3)) for `Type=notify` units: READY=1 once the server listens
 * and STOPPING=1 when it starts draining, sent to the AF_UNIX datagram socket named by NOTIFY_SOCKET
 * ("/path" or "@abstract").
 *
 * Node.js cannot send on a Unix datagram socket (dgram is UDP only, net is stream only), and this project
 * takes no native addon for it, so each message is handed to systemd's own sender, systemd-notify(1),
 * found at a fixed path. A sender that is not the main process is attributed by its own PID, so the unit
 * needs NotifyAccess=all (deploy/vigosrv.service); systemd-notify then
 *   - waits until the manager has processed the message (its BARRIER=1 handshake, systemd 246+) before
 *     it exits, so the manager never sees a message from a PID that is already gone (the race that drops
 *     notifications from short-lived senders),
 *   - is passed --pid with the server's PID: MAINPID names the right process, and where vigosrv runs as
 *     root the datagram carries the server's own credentials.
 * NOTIFY_SOCKET is taken out of the environment at start, so no child process (check-in workers, stack
 * commands) can notify in the server's name.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Logger } from '../core/index.ts';

/** Where systemd installs systemd-notify on the distributions vigosrv supports. */
export const systemdNotifyPaths: readonly string[] = ['/usr/bin/systemd-notify', '/bin/systemd-notify'];

/** sun_path holds 108 bytes including the terminating NUL of a path socket. */
const maxSocketAddressBytes = 107;
/** A sender stuck past this (a manager that never answers the barrier) is killed. */
const senderTimeoutMs = 15_000;
const maxStatusChars = 200;

export type NotifySocket =
  | { readonly kind: 'unset' }
  | { readonly kind: 'socket'; readonly address: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Reads NOTIFY_SOCKET: an absolute socket path or an abstract name (leading "@"), within sun_path's size. */
export function parseNotifySocket(value: string | undefined): NotifySocket {
  if (value === undefined || value === '') return { kind: 'unset' };
  if (!value.startsWith('/') && !value.startsWith('@')) {
    return {
      kind: 'invalid',
      reason: 'NOTIFY_SOCKET is neither an absolute socket path nor an abstract name starting with "@"',
    };
  }
  if (value.length === 1) return { kind: 'invalid', reason: 'NOTIFY_SOCKET names no socket' };
  if (Buffer.byteLength(value, 'utf8') > maxSocketAddressBytes) {
    return {
      kind: 'invalid',
      reason: `NOTIFY_SOCKET is longer than a Unix socket address (${maxSocketAddressBytes} bytes)`,
    };
  }
  if (/[\0\n]/.test(value)) return { kind: 'invalid', reason: 'NOTIFY_SOCKET contains a NUL or newline' };
  return { kind: 'socket', address: value };
}

/** Status text for `systemctl status`: one line of printable characters, bounded. */
export function statusText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, maxStatusChars);
}

export interface ServiceNotifier {
  /** The socket messages go to, or undefined when the server was not started by a notify-aware manager. */
  readonly address: string | undefined;
  /** READY=1 with a status line; resolves when the manager has the message (or sending failed, logged). */
  ready(status: string): Promise<void>;
  /** STOPPING=1 with a status line. */
  stopping(status: string): Promise<void>;
}

export interface ServiceNotifierOptions {
  /** The process environment: NOTIFY_SOCKET is read and then deleted from it. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** The sender; the first executable of systemdNotifyPaths by default. */
  readonly sender?: string;
  /** The PID reported as MAINPID; the current process by default. */
  readonly pid?: number;
}

function findSender(): string | undefined {
  for (const candidate of systemdNotifyPaths) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not installed here
    }
  }
  return undefined;
}

const silent: ServiceNotifier = {
  address: undefined,
  ready: () => Promise.resolve(),
  stopping: () => Promise.resolve(),
};

export function createServiceNotifier(options: ServiceNotifierOptions): ServiceNotifier {
  const socket = parseNotifySocket(options.env['NOTIFY_SOCKET']);
  delete options.env['NOTIFY_SOCKET'];
  const log = options.log;
  if (socket.kind === 'unset') return silent;
  if (socket.kind === 'invalid') {
    log.warn('service manager notifications are off', { reason: socket.reason });
    return silent;
  }
  const sender = options.sender ?? findSender();
  if (sender === undefined) {
    log.warn('service manager notifications are off: systemd-notify is not installed', {
      looked: systemdNotifyPaths,
      hint: 'install systemd (it ships systemd-notify) or run vigosrv under Type=exec instead of Type=notify',
    });
    return silent;
  }
  const pid = options.pid ?? process.pid;
  const address = socket.address;

  const send = (assignments: readonly string[]): Promise<void> =>
    new Promise((resolve) => {
      execFile(
        sender,
        [`--pid=${pid}`, ...assignments],
        // Only what the sender needs: it must not see secrets from the server's environment.
        { env: { NOTIFY_SOCKET: address, PATH: '/usr/bin:/bin' }, timeout: senderTimeoutMs },
        (err, _stdout, stderr) => {
          if (err !== null) {
            log.warn('service manager notification failed', {
              message: assignments[0],
              socket: address,
              error: stderr.trim() || err.message,
            });
          } else log.debug('service manager notified', { message: assignments[0], socket: address });
          resolve();
        },
      );
    });

  return {
    address,
    ready: (status) => send(['READY=1', `STATUS=${statusText(status)}`]),
    stopping: (status) => send(['STOPPING=1', `STATUS=${statusText(status)}`]),
  };
}
