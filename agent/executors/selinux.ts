/**
 * `selinux`: the SELinux mode (enforcing, permissive, disabled) and booleans.
 *
 * The running mode is read from /sys/fs/selinux/enforce and changed with `setenforce`; the boot mode
 * is the SELINUX= line of /etc/selinux/config. `disabled` cannot be reached at run time: the host is
 * made permissive now and disabled at the next boot, as the message says. Booleans are read from
 * /sys/fs/selinux/booleans/<name> and set with `setsebool` (`-P`, kept across reboots, unless
 * persist: false).
 *
 * Where SELinux is absent — no selinuxfs and no /etc/selinux/config — there is nothing to manage: the
 * resource reports skipped (or none for `state: disabled`, which is already true), never failed.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  applyTextEdit,
  fail,
  guardApply,
  joinLines,
  optionalBool,
  optionalString,
  readIfExists,
  result,
  splitLines,
} from './fs-util.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { changed, runChecked, underRoot, type RootOptions } from './unix-util.ts';

export interface SelinuxExecutorOptions extends RootOptions {
  /** The SELinux filesystem; /sys/fs/selinux. */
  readonly selinuxfs?: string;
}

type Mode = 'enforcing' | 'permissive' | 'disabled';
const modes = new Set<string>(['enforcing', 'permissive', 'disabled']);
const booleanName = /^[a-z0-9_]{1,128}$/;

function boolValue(name: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'on' || v === '1' || v === 1 || v === 'true') return true;
  if (v === 'off' || v === '0' || v === 0 || v === 'false') return false;
  fail(`boolean ${name} must be on or off, got ${JSON.stringify(v)}`);
}

function parseBooleans(raw: unknown): Map<string, boolean> {
  const out = new Map<string, boolean>();
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw))
    fail('booleans must be a map such as { httpd_can_network_connect: on }');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 200) fail('booleans may list at most 200 entries');
  for (const [name, v] of entries) {
    if (!booleanName.test(name)) fail(`"${name.slice(0, 80)}" is not an SELinux boolean name`);
    out.set(name, boolValue(name, v));
  }
  return out;
}

function configEdit(text: string, mode: Mode): { text: string; summary: string } | null {
  const lines = splitLines(text);
  const at = lines.findIndex((l) => /^\s*SELINUX\s*=/.test(l));
  const want = `SELINUX=${mode}`;
  if (at >= 0 && lines[at]?.trim().replace(/\s+/g, '') === want) return null;
  if (at >= 0) lines[at] = want;
  else lines.push(want);
  return { text: joinLines(lines), summary: `SELINUX=${mode} at boot` };
}

export function createSelinuxExecutor(options: SelinuxExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const fs = options.selinuxfs ?? '/sys/fs/selinux';
  const config = underRoot(root, '/etc/selinux/config');

  const setMode = async (mode: Mode, ctx: ExecutorContext, parts: string[]): Promise<void> => {
    const now = (await readIfExists(path.join(fs, 'enforce')))?.toString('utf8').trim();
    if (now === undefined) return;
    const want = mode === 'enforcing' ? '1' : '0';
    if (now === want) return;
    const label = mode === 'enforcing' ? 'enforcing' : 'permissive';
    parts.push(
      `${ctx.dryRun ? 'would switch' : 'switched'} to ${label} now${mode === 'disabled' ? ' (disabled takes a reboot)' : ''}`,
    );
    if (ctx.dryRun) return;
    await runChecked(ctx, 'selinux', 'setenforce', [want]);
    const after = (await readIfExists(path.join(fs, 'enforce')))?.toString('utf8').trim();
    if (after !== want)
      fail(
        `selinux: setenforce ${want} succeeded but the mode is still ${after === '1' ? 'enforcing' : 'permissive'}`,
      );
  };

  return {
    type: 'selinux',
    apply: (params, ctx) =>
      guardApply(async () => {
        const mode = optionalString(params, 'state') ?? optionalString(params, 'mode');
        if (mode !== undefined && !modes.has(mode)) fail('state must be enforcing, permissive or disabled');
        const booleans = parseBooleans(params.booleans);
        const persist = optionalBool(params, 'persist', true);
        if (mode === undefined && booleans.size === 0)
          fail('selinux: set state (enforcing, permissive, disabled) and/or booleans');
        const running = (await fsp.stat(path.join(fs, 'enforce')).catch(() => null)) !== null;
        const installed = (await readIfExists(config)) !== null;
        if (!running && !installed) {
          if (mode === 'disabled' && booleans.size === 0)
            return result('none', 'SELinux is not present on this host');
          return result('skipped', `SELinux is not present on this host (no ${fs}, no /etc/selinux/config)`);
        }
        const parts: string[] = [];
        if (mode !== undefined) {
          await setMode(mode as Mode, ctx, parts);
          if (installed) {
            const edited = await applyTextEdit(ctx, {
              file: config,
              create: false,
              absent: false,
              attrs: {},
              transform: (text) => configEdit(text, mode as Mode),
            });
            if (edited.outcome === 'failed') return edited;
            if (changed(edited)) parts.push(edited.message);
          }
        }
        if (booleans.size > 0) {
          if (!running)
            return result(
              'skipped',
              `SELinux is not running on this host; booleans cannot be set${parts.length ? ` (${parts.join('; ')})` : ''}`,
            );
          for (const [name, want] of booleans) {
            const raw = (await readIfExists(path.join(fs, 'booleans', name)))?.toString('utf8').trim();
            if (raw === undefined) fail(`selinux: no SELinux boolean named ${name}`);
            if ((raw.split(/\s+/)[0] === '1') === want) continue;
            const v = want ? 'on' : 'off';
            parts.push(`${ctx.dryRun ? 'would set' : 'set'} ${name} ${v}`);
            if (ctx.dryRun) continue;
            await runChecked(ctx, 'selinux', 'setsebool', [...(persist ? ['-P'] : []), name, v], {
              timeoutMs: 300_000,
            });
            const after = (await readIfExists(path.join(fs, 'booleans', name)))
              ?.toString('utf8')
              .trim()
              .split(/\s+/)[0];
            if ((after === '1') !== want)
              fail(`selinux: setsebool ${name} ${v} succeeded but the boolean is unchanged`);
          }
        }
        if (parts.length === 0) return result('none', `SELinux is ${mode ?? 'as wanted'}`);
        return result('updated', parts.join('; '));
      }),
  };
}

export const selinuxExecutor: Executor = createSelinuxExecutor();
