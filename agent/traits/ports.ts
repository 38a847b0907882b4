/**
 * ports {tcp [port], udp [port], listening [{proto, address, port}], truncated}: the sockets of the
 * agent's network namespace that accept connections, from /proc/net/tcp, tcp6, udp and udp6 — TCP in
 * LISTEN, UDP bound and not connected. `tcp` and `udp` are the distinct port numbers, sorted, for
 * conditions such as `traits.ports.tcp` containing 443. Each table is read up to 16 MiB (a host with
 * hundreds of thousands of connections has larger ones; `truncated` then says so); at most 1024
 * listening sockets are listed.
 */
import { join } from 'node:path';
import { readTextBounded } from './read.ts';
import type { TraitCollector } from './types.ts';

const maxTableBytes = 16 * 1024 * 1024;
const maxListed = 1024;
const tcpListen = '0A';
const udpUnconnected = '07';

export interface Listening {
  readonly proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  readonly address: string;
  readonly port: number;
}

/** A /proc/net address: IPv4 as one little-endian 32-bit word, IPv6 as four of them. */
export function decodeProcAddress(hex: string): string | null {
  if (/^[0-9A-Fa-f]{8}$/.test(hex)) {
    const n = parseInt(hex, 16);
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
  }
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return null;
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const w = hex.slice(word * 8, word * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(w.slice(b * 2, b * 2 + 2), 16));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff')
    return `::ffff:${bytes.slice(12).join('.')}`;
  return compressV6(groups);
}

function compressV6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** The listening sockets of one /proc/net table. */
export function parseProcNet(text: string, proto: Listening['proto']): Listening[] {
  const want = proto.startsWith('tcp') ? tcpListen : udpUnconnected;
  const out: Listening[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, remote, state] = [fields[1], fields[2], fields[3]];
    if (local === undefined || remote === undefined || state !== want) continue;
    if (!proto.startsWith('tcp') && !/:0000$/.test(remote)) continue;
    const colon = local.lastIndexOf(':');
    const address = decodeProcAddress(local.slice(0, colon));
    const port = parseInt(local.slice(colon + 1), 16);
    if (address === null || !Number.isInteger(port) || port <= 0 || port > 65535) continue;
    out.push({ proto, address, port });
  }
  return out;
}

export const portsCollector: TraitCollector = {
  name: 'ports',
  // Vigo reads the listening sockets every cycle: a service that starts listening shows at once.
  volatile: true,
  timeoutMs: 5000,
  async collect(env) {
    const protos = ['tcp', 'tcp6', 'udp', 'udp6'] as const;
    const tables = await Promise.all(
      protos.map((p) => readTextBounded(join(env.procRoot, 'net', p), maxTableBytes)),
    );
    if (tables.every((t) => t === null))
      throw new Error(`cannot read the socket tables in ${join(env.procRoot, 'net')}`);
    const seen = new Map<string, Listening>();
    for (const [i, table] of tables.entries())
      for (const l of parseProcNet(table?.text ?? '', protos[i]!))
        seen.set(`${l.proto} ${l.address} ${l.port}`, l);
    const all = [...seen.values()].sort(
      (a, b) => a.port - b.port || a.proto.localeCompare(b.proto) || a.address.localeCompare(b.address),
    );
    const portsOf = (family: string) =>
      [...new Set(all.filter((l) => l.proto.startsWith(family)).map((l) => l.port))].sort((a, b) => a - b);
    return {
      ports: {
        tcp: portsOf('tcp'),
        udp: portsOf('udp'),
        listening: all.slice(0, maxListed),
        truncated: tables.some((t) => t?.truncated === true) || all.length > maxListed,
      },
    };
  },
};
