/**
 * Syslog: RFC 5424 messages framed by octet counting (RFC 6587 3.4.1) over TCP, or over TLS (RFC 5425)
 * verified against the target's CA file or the system roots. One connection per target is kept open and
 * opened again after an error. TCP has no application acknowledgement: a batch counts as delivered once
 * the kernel accepted every byte of it.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [vigo@32473 id="…" type="…" severity="…" subject="…"] BOM<event JSON>
 *
 * PRI is facility × 8 + severity (critical 2, warning 4, info 6); MSGID is the event type.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SyslogOptions } from '../target-options.ts';
import { syslogFacilities } from '../target-options.ts';
import type { Delivery, DeliveryPayload } from '../queue.ts';
import { readCaFile } from './http-post.ts';
import type { Adapter, AdapterContext, Outcome } from './types.ts';
import { errorText } from './types.ts';

/** RFC 5424 severities of our three levels. */
const syslogSeverity: Readonly<Record<string, number>> = { critical: 2, warning: 4, info: 6 };

/** The SD-ID: the IANA documentation enterprise number, as no private one is registered for Vigo. */
export const structuredDataId = 'vigo@32473';

function sdValue(text: string): string {
  return text.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII without spaces, at most `max` characters, "-" when empty. */
function headerField(text: string, max: number): string {
  const cleaned = text.replace(/[^!-~]/g, '').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

export function syslogMessage(
  payload: DeliveryPayload,
  options: { facility: number; appName: string; hostname: string; procId: string },
): string {
  const pri = options.facility * 8 + (syslogSeverity[payload.severity] ?? 6);
  const params = [
    `id="${sdValue(payload.id)}"`,
    `type="${sdValue(payload.type)}"`,
    `severity="${sdValue(payload.severity)}"`,
    ...(payload.subject === undefined ? [] : [`subject="${sdValue(payload.subject)}"`]),
  ].join(' ');
  return (
    `<${pri}>1 ${payload.at} ${headerField(options.hostname, 255)} ${headerField(options.appName, 48)} ` +
    `${headerField(options.procId, 128)} ${headerField(payload.type, 32)} [${structuredDataId} ${params}] ` +
    `\uFEFF${JSON.stringify(payload)}`
  );
}

/** RFC 6587 octet counting: "<byte length> <message>". */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export function createSyslogAdapter(
  target: SyslogOptions & { readonly timeoutMs: number },
  ctx: AdapterContext,
): Adapter {
  const ca = readCaFile(target.caFile);
  const format = {
    facility: syslogFacilities[target.facility],
    appName: target.appName,
    hostname: target.hostname ?? ctx.serverHostname,
    procId: String(process.pid),
  };
  let socket: net.Socket | undefined;
  let ready: Promise<net.Socket> | undefined;
  let closed = false;

  const drop = (reason: Error): void => {
    socket?.destroy(reason);
    socket = undefined;
    ready = undefined;
  };

  const connect = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const options = { host: target.host, port: target.port };
      const s =
        target.transport === 'tls'
          ? tls.connect({
              ...options,
              ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}),
              ...(ca === undefined ? {} : { ca }),
            })
          : net.connect(options);
      const event = target.transport === 'tls' ? 'secureConnect' : 'connect';
      s.once(event, () => {
        s.removeListener('error', reject);
        s.on('error', () => {
          if (socket === s) drop(new Error('syslog connection failed'));
        });
        s.on('close', () => {
          if (socket === s) {
            socket = undefined;
            ready = undefined;
          }
        });
        // The receiver never writes; reading keeps a peer's close noticed.
        s.resume();
        s.unref();
        socket = s;
        resolve(s);
      });
      s.once('error', reject);
    });

  const write = (s: net.Socket, data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      s.write(data, (err) => (err ? reject(err) : resolve()));
    });

  const sendBatch = async (batch: readonly Delivery[]): Promise<Outcome> => {
    if (closed) return { kind: 'retry', error: 'the server is stopping' };
    const frames = Buffer.concat(batch.map((d) => octetFrame(syslogMessage(d.payload, format))));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`syslog send not done within ${target.timeoutMs} ms`)),
        target.timeoutMs,
      );
    });
    try {
      ready ??= connect();
      const s = await Promise.race([ready, timeout]);
      await Promise.race([write(s, frames), timeout]);
      return { kind: 'delivered' };
    } catch (err) {
      drop(err instanceof Error ? err : new Error(String(err)));
      return { kind: 'retry', error: errorText(err) };
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    send: sendBatch,
    close: () => {
      closed = true;
      drop(new Error('closed'));
    },
  };
}
