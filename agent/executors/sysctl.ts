/**
 * `sysctl`: a kernel parameter's running value, and its line `key = value` in the agent's own
 * sysctl.d file so it survives a reboot.
 *
 * persist defaults to true: a setting that silently reverts at the next boot is rarely what a
 * stack means; `persist: false` changes only the running value and leaves the file alone.
 * state: absent removes the persisted line; the running value is left as it is (the kernel has no
 * "unset", and the old value is not known).
 * Keys use dots (vm.swappiness → <procRoot>/vm/swappiness); a key written with slashes
 * (net/ipv4/conf/eth0.1/forwarding) is taken as a path, so dots inside names survive.
 * Values are compared with runs of whitespace collapsed, as /proc prints tabs between fields.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  optionalBool,
  optionalScalar,
  requiredString,
  result,
  splitLines,
  stateParam,
  type TextEdit,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';

export interface SysctlExecutorOptions {
  /** Where kernel parameters are read and written; /proc/sys unless a test points elsewhere. */
  readonly procRoot?: string;
  /** The persisted settings file the agent owns. */
  readonly confFile?: string;
}

function normalizeValue(v: string): string {
  return v.trim().split(/\s+/).join(' ');
}

function keyToPath(key: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/.test(key)) {
    fail(`"${key}" is not a sysctl key such as vm.swappiness`);
  }
  const rel = key.includes('/') ? key : key.replaceAll('.', '/');
  if (rel.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    fail(`"${key}" is not a valid sysctl key`);
  }
  return rel;
}

function confKey(line: string): string | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#') || t.startsWith(';')) return undefined;
  const eq = t.indexOf('=');
  // A leading "-" tells systemd-sysctl to ignore errors for that line; the key is the same.
  return eq > 0 ? t.slice(0, eq).trim().replace(/^-/, '') : undefined;
}

interface PersistChange {
  added: boolean;
}

function persistEdit(
  current: string,
  key: string,
  value: string | null,
  change: PersistChange,
): TextEdit | null {
  const lines = splitLines(current);
  const found = lines.flatMap((l, i) => (confKey(l) === key ? [i] : []));
  const entry = `${key} = ${value ?? ''}`;
  if (value === null) {
    if (found.length === 0) return null;
    for (const i of [...found].reverse()) lines.splice(i, 1);
    return { text: joinLines(lines), summary: `removed ${key}`, removes: true };
  }
  const first = found[0];
  if (first === undefined) {
    change.added = true;
    lines.push(entry);
    return { text: joinLines(lines), summary: `added ${key}` };
  }
  const existing = lines[first] ?? '';
  const same = normalizeValue(existing.slice(existing.indexOf('=') + 1)) === value;
  if (same && found.length === 1) return null;
  lines[first] = entry;
  for (const i of found.slice(1).reverse()) lines.splice(i, 1);
  return { text: joinLines(lines), summary: `changed ${key}` };
}

async function readRuntime(procFile: string, key: string): Promise<string> {
  try {
    return normalizeValue(await fsp.readFile(procFile, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      fail(`unknown sysctl key ${key}: ${procFile} does not exist`);
    }
    throw err;
  }
}

async function setRuntime(procFile: string, key: string, value: string): Promise<void> {
  try {
    await fsp.writeFile(procFile, value);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    fail(`cannot set ${key} (${e.code ?? e.message}); in a container /proc/sys is often read-only`);
  }
  const now = await readRuntime(procFile, key);
  if (now !== value) fail(`after writing ${key} = ${value} the kernel reports ${now}`);
}

interface SysctlPlan {
  readonly key: string;
  readonly procFile: string;
  readonly confFile: string;
  readonly value: string;
  readonly persist: boolean;
}

async function ensureSysctl(plan: SysctlPlan, ctx: ExecutorContext): Promise<ExecutorResult> {
  const current = await readRuntime(plan.procFile, plan.key);
  const parts: string[] = [];
  if (current !== plan.value) {
    parts.push(`${ctx.dryRun ? 'would set' : 'set'} ${plan.key} ${current} -> ${plan.value}`);
    if (!ctx.dryRun) await setRuntime(plan.procFile, plan.key, plan.value);
  }
  const change: PersistChange = { added: false };
  if (plan.persist) {
    const persisted = await applyTextEdit(ctx, {
      file: plan.confFile,
      create: true,
      createParent: true,
      absent: false,
      attrs: {},
      transform: (text) => persistEdit(text, plan.key, plan.value, change),
    });
    if (persisted.outcome === 'failed') return result('failed', [...parts, persisted.message].join('; '));
    if (persisted.outcome !== 'none') parts.push(persisted.message);
  }
  if (parts.length === 0) return result('none', `${plan.key} is ${plan.value}`);
  return result(change.added ? 'created' : 'updated', parts.join('; '));
}

export function createSysctlExecutor(options: SysctlExecutorOptions = {}): Executor {
  const procRoot = options.procRoot ?? '/proc/sys';
  const confFile = options.confFile ?? '/etc/sysctl.d/99-vigo.conf';
  return {
    type: 'sysctl',
    apply: (params, ctx) =>
      guardApply(async () => {
        const key = requiredString(params, 'key');
        const procFile = path.join(procRoot, keyToPath(key));
        const raw = optionalScalar(params, 'value');
        const persist = optionalBool(params, 'persist', true);
        if (stateParam(params) === 'absent') {
          return applyTextEdit(ctx, {
            file: confFile,
            create: false,
            absent: true,
            attrs: {},
            transform: (text) => persistEdit(text, key, null, { added: false }),
          });
        }
        if (raw === undefined || raw.trim() === '') fail('value is required when state is present');
        if (raw.includes('\n')) fail('value must be a single line');
        return ensureSysctl({ key, procFile, confFile, value: normalizeValue(raw), persist }, ctx);
      }),
  };
}

export const sysctlExecutor: Executor = createSysctlExecutor();
