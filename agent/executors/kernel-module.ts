/**
 * `kernel_module`: a kernel module loaded (and loaded at every boot), unloaded, or blacklisted.
 *
 * present — loaded now with `modprobe`, and listed in /etc/modules-load.d/<module>.conf (persist:
 * false skips the file). absent — unloaded with `modprobe -r` and the modules-load.d file removed.
 * blacklisted — `blacklist <module>` in /etc/modprobe.d/blacklist-<module>.conf, and unloaded when
 * loaded. `options` ("key=value …") go to /etc/modprobe.d/<module>.conf; a loaded module takes new
 * options at its next load, which the message says. A module counts as loaded when /sys/module/<name>
 * exists or the module is built into the running kernel (modules.builtin; it then cannot be unloaded),
 * with "-" and "_" the same as modprobe treats them.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, guardApply, optionalBool, optionalString, readIfExists, result } from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';
import {
  changed,
  removeWholeFile,
  runChecked,
  underRoot,
  writeWholeFile,
  type RootOptions,
} from './unix-util.ts';

export interface KernelModuleExecutorOptions extends RootOptions {
  /** Where loaded modules appear; /sys/module. */
  readonly sysModuleDir?: string;
  /** The running kernel's list of built-in modules; /lib/modules/<release>/modules.builtin. */
  readonly modulesBuiltin?: string;
}

type ModuleState = 'present' | 'absent' | 'blacklisted';
const modulePattern = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const optionsPattern = /^[A-Za-z0-9_]+=[^\s"'\\;|&$`]{0,256}( [A-Za-z0-9_]+=[^\s"'\\;|&$`]{0,256}){0,31}$/;

export function createKernelModuleExecutor(options: KernelModuleExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const sysModule = options.sysModuleDir ?? '/sys/module';
  const builtinList = options.modulesBuiltin ?? `/lib/modules/${os.release()}/modules.builtin`;
  const builtin = async (name: string): Promise<boolean> => {
    const text = (await readIfExists(builtinList))?.toString('utf8') ?? '';
    const want = name.replaceAll('-', '_');
    return text.split('\n').some((l) => path.basename(l.trim(), '.ko').replaceAll('-', '_') === want);
  };
  const loaded = async (name: string): Promise<boolean> =>
    (await fsp.stat(path.join(sysModule, name.replaceAll('-', '_'))).catch(() => null)) !== null;

  const setLoaded = async (
    name: string,
    want: boolean,
    ctx: ExecutorContext,
  ): Promise<string | undefined> => {
    if ((await loaded(name)) === want) return undefined;
    if (await builtin(name)) {
      if (want) return undefined;
      fail(`kernel_module ${name}: the module is built into the kernel and cannot be unloaded`);
    }
    const verb = want ? 'load' : 'unload';
    if (ctx.dryRun) return `would ${verb} ${name}`;
    await runChecked(ctx, `kernel_module ${name}`, 'modprobe', want ? ['--', name] : ['-r', '--', name]);
    if ((await loaded(name)) !== want)
      fail(
        `kernel_module ${name}: modprobe succeeded but the module is ${want ? 'not loaded' : 'still loaded'}`,
      );
    return `${verb}ed ${name}`;
  };

  return {
    type: 'kernel_module',
    apply: (params, ctx) =>
      guardApply(async () => {
        const name = optionalString(params, 'module') ?? optionalString(params, 'name') ?? '';
        if (!modulePattern.test(name))
          fail(`module "${name.slice(0, 80)}" is not a kernel module name such as br_netfilter`);
        const state = (optionalString(params, 'state') ?? 'present') as ModuleState;
        if (!['present', 'absent', 'blacklisted'].includes(state))
          fail('state must be present, absent or blacklisted');
        const persist = optionalBool(params, 'persist', true);
        const opts = optionalString(params, 'options');
        if (opts !== undefined && opts !== '' && !optionsPattern.test(opts)) {
          fail(`kernel_module ${name}: options must be "key=value" pairs separated by spaces`);
        }
        const loadFile = underRoot(root, `/etc/modules-load.d/${name}.conf`);
        const blacklistFile = underRoot(root, `/etc/modprobe.d/blacklist-${name}.conf`);
        const optionsFile = underRoot(root, `/etc/modprobe.d/${name}.conf`);
        const steps: ExecutorResult[] = [];
        const parts: string[] = [];
        const file = async (r: Promise<ExecutorResult>): Promise<void> => {
          const done = await r;
          if (done.outcome === 'failed') fail(`kernel_module ${name}: ${done.message}`);
          steps.push(done);
          if (changed(done)) parts.push(done.message);
        };
        if (opts !== undefined) {
          await file(
            opts === ''
              ? removeWholeFile(ctx, optionsFile)
              : writeWholeFile(ctx, optionsFile, `options ${name} ${opts}\n`),
          );
        }
        let live: string | undefined;
        if (state === 'present') {
          await file(removeWholeFile(ctx, blacklistFile));
          if (persist) await file(writeWholeFile(ctx, loadFile, `${name}\n`));
          const optionsChanged = steps[0] !== undefined && opts !== undefined && changed(steps[0]);
          const wasLoaded = await loaded(name);
          live = await setLoaded(name, true, ctx);
          if (optionsChanged && wasLoaded)
            parts.push(`${name} is loaded: the new options apply at its next load`);
        } else {
          await file(removeWholeFile(ctx, loadFile));
          if (state === 'blacklisted') await file(writeWholeFile(ctx, blacklistFile, `blacklist ${name}\n`));
          live = await setLoaded(name, false, ctx);
        }
        if (live !== undefined) parts.push(live);
        if (parts.length === 0) return result('none', `${name} is ${state}`);
        const created = steps.some((s) => s.outcome === 'created') || live !== undefined;
        return result(state === 'present' ? (created ? 'created' : 'updated') : 'deleted', parts.join('; '));
      }),
  };
}

export const kernelModuleExecutor: Executor = createKernelModuleExecutor();
