/**
 * `host`: one hosts-file entry `ip hostname aliases…`.
 *
 * The entry is identified by its hostname: the line whose first name is `hostname` is the managed
 * one (further such lines are removed as duplicates); a line that lists the hostname only as an
 * alias belongs to another entry and is left alone. An entry already holding the same ip and names
 * is left as written (spacing, trailing comment); a rewritten line keeps its trailing comment.
 * state: absent removes the lines whose first name is `hostname`, whatever their ip.
 */
import net from 'node:net';
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  optionalString,
  requiredString,
  splitLines,
  stateParam,
  type TextEdit,
} from './fs-util.ts';
import type { Executor } from './types.ts';

export interface HostExecutorOptions {
  /** The hosts file to manage; /etc/hosts unless a test points elsewhere. */
  readonly hostsFile?: string;
}

interface HostEntry {
  readonly ip: string;
  readonly names: readonly string[];
  readonly comment: string;
}

function parseLine(line: string): HostEntry | undefined {
  const hash = line.indexOf('#');
  const body = hash >= 0 ? line.slice(0, hash) : line;
  const [ip, ...names] = body.trim().split(/\s+/);
  if (ip === undefined || ip === '' || names.length === 0) return undefined;
  return { ip, names, comment: hash >= 0 ? line.slice(hash) : '' };
}

function formatEntry(ip: string, names: readonly string[], comment: string): string {
  return `${ip}\t${names.join(' ')}${comment ? ` ${comment}` : ''}`;
}

function sameEntry(e: HostEntry, ip: string, names: readonly string[]): boolean {
  return e.ip === ip && e.names.length === names.length && e.names.every((n, i) => n === names[i]);
}

function hostEdit(current: string, ip: string, names: readonly string[], absent: boolean): TextEdit | null {
  const lines = splitLines(current);
  const owned = lines.flatMap((l, i) => (parseLine(l)?.names[0] === names[0] ? [i] : []));
  const first = owned[0];
  if (absent) {
    if (first === undefined) return null;
    for (const i of [...owned].reverse()) lines.splice(i, 1);
    return { text: joinLines(lines), summary: `removed entry for ${names[0]}`, removes: true };
  }
  if (first === undefined) {
    lines.push(formatEntry(ip, names, ''));
    return { text: joinLines(lines), summary: `added ${ip} ${names.join(' ')}` };
  }
  const entry = parseLine(lines[first] ?? '');
  if (entry && owned.length === 1 && sameEntry(entry, ip, names)) return null;
  const before = entry ? `${entry.ip} ${entry.names.join(' ')}` : '';
  lines[first] = formatEntry(ip, names, entry?.comment ?? '');
  for (const i of owned.slice(1).reverse()) lines.splice(i, 1);
  return { text: joinLines(lines), summary: `changed "${before}" to "${ip} ${names.join(' ')}"` };
}

function hostNames(params: Readonly<Record<string, unknown>>): string[] {
  const hostname = requiredString(params, 'hostname');
  const aliases = params.aliases ?? [];
  if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string')) {
    fail('aliases must be a list of host names');
  }
  const names = [hostname, ...(aliases as string[])];
  for (const n of names) {
    if (!/^[A-Za-z0-9_.-]+$/.test(n)) {
      fail(`"${n}" is not a valid host name (letters, digits, ".", "-", "_")`);
    }
  }
  return names;
}

export function createHostExecutor(options: HostExecutorOptions = {}): Executor {
  const hostsFile = options.hostsFile ?? '/etc/hosts';
  return {
    type: 'host',
    apply: (params, ctx) =>
      guardApply(async () => {
        const absent = stateParam(params) === 'absent';
        const ip = optionalString(params, 'ip') ?? '';
        if (!absent && net.isIP(ip) === 0) fail(`ip "${ip}" is not an IPv4 or IPv6 address`);
        const names = hostNames(params);
        return applyTextEdit(ctx, {
          file: hostsFile,
          create: true,
          absent,
          attrs: {},
          transform: (current) => hostEdit(current, ip, names, absent),
        });
      }),
  };
}

export const hostExecutor: Executor = createHostExecutor();
