/**
 * `logrotate`: one stanza in /etc/logrotate.d/<name>, built from fields (frequency, rotate, compress…)
 * rather than free text, so what is written always parses. The file is rewritten only when the stanza
 * differs; state: absent removes it.
 *
 * Booleans may be written as strings ("true"), as Vigo's examples do. The log path may be a glob; it
 * must not contain whitespace, quotes or braces, and a postrotate script may not end its own block.
 */
import path from 'node:path';
import { fail, guardApply, optionalScalar, optionalString, stateParam } from './fs-util.ts';
import type { Executor } from './types.ts';
import {
  absolutePath,
  fileStem,
  removeWholeFile,
  underRoot,
  writeWholeFile,
  type RootOptions,
} from './unix-util.ts';

type Params = Readonly<Record<string, unknown>>;

const frequencies = new Set(['hourly', 'daily', 'weekly', 'monthly', 'yearly']);
const sizePattern = /^[0-9]+[kMG]?$/;
const createPattern = /^[0-7]{3,4}( [A-Za-z0-9_][A-Za-z0-9_.-]{0,31}){0,2}$/;

function flag(params: Params, key: string, fallback: boolean): boolean {
  const v = params[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const w = v.toLowerCase();
    if (w === 'true' || w === 'yes') return true;
    if (w === 'false' || w === 'no') return false;
  }
  fail(`${key} must be true or false, got ${JSON.stringify(v)}`);
}

function count(params: Params, key: string): number | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 100_000)
    fail(`${key} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

function script(params: Params, key: string): string[] {
  const v = optionalString(params, key);
  if (v === undefined || v.trim() === '') return [];
  if (v.length > 16_384) fail(`${key} is longer than 16384 characters`);
  const lines = v.replace(/\n+$/, '').split('\n');
  if (lines.some((l) => l.trim() === 'endscript')) fail(`${key} may not contain an "endscript" line`);
  return [`    ${key}`, ...lines.map((l) => `        ${l}`), '    endscript'];
}

export function logrotateStanza(params: Params): string {
  const logPath = absolutePath(params, 'target_path', 'path');
  if (logPath === undefined) fail('path is required, e.g. path: /var/log/myapp/*.log');
  if (/[\s"'{}\\]/.test(logPath))
    fail(`path "${logPath}" may not contain whitespace, quotes, braces or "\\"`);
  const frequency = optionalString(params, 'frequency') ?? 'weekly';
  if (!frequencies.has(frequency)) fail(`frequency must be one of ${[...frequencies].join(', ')}`);
  const lines = [`${logPath} {`, `    ${frequency}`, `    rotate ${count(params, 'rotate') ?? 4}`];
  for (const [key, fallback] of [
    ['compress', true],
    ['delaycompress', true],
    ['missingok', true],
    ['notifempty', true],
    ['copytruncate', false],
  ] as const) {
    if (flag(params, key, fallback)) lines.push(`    ${key}`);
  }
  const size = optionalScalar(params, 'size');
  if (size !== undefined) {
    if (!sizePattern.test(size))
      fail(`size must be a number with an optional k, M or G suffix, got "${size}"`);
    lines.push(`    size ${size}`);
  }
  const maxage = count(params, 'maxage');
  if (maxage !== undefined) lines.push(`    maxage ${maxage}`);
  const create = optionalString(params, 'create');
  if (create !== undefined) {
    if (!createPattern.test(create))
      fail(`create must look like "0644 root root", got ${JSON.stringify(create)}`);
    lines.push(`    create ${create}`);
  }
  lines.push(...script(params, 'postrotate'), '}');
  return `${lines.join('\n')}\n`;
}

export function createLogrotateExecutor(options: RootOptions = {}): Executor {
  const root = options.root ?? '/';
  return {
    type: 'logrotate',
    apply: (params, ctx) =>
      guardApply(async () => {
        const stem = fileStem(params, 'name', 'myapp');
        const file = underRoot(root, path.join('/etc/logrotate.d', stem));
        if (stateParam(params) === 'absent') return removeWholeFile(ctx, file);
        return writeWholeFile(ctx, file, logrotateStanza(params));
      }),
  };
}

export const logrotateExecutor: Executor = createLogrotateExecutor();
