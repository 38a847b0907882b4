/**
 * `hostname`: the host's name, both the running one (the kernel's, what uname reports) and the
 * static one in /etc/hostname that the next boot uses.
 *
 * Where systemd runs, `hostnamectl set-hostname` sets both (and tells hostnamed); elsewhere — a
 * container, a host without systemd — /etc/hostname is written and the kernel's name is set through
 * /proc/sys/kernel/hostname. Both are read back afterwards. There is no state: a host always has a
 * name; to undo a change, set the old name (or use revert: with on_revert: { hostname: … }).
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { fail, guardApply, readIfExists, requiredString, result } from './fs-util.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { runChecked, underRoot, writeWholeFile, type RootOptions } from './unix-util.ts';

export interface HostnameExecutorOptions extends RootOptions {
  /** The running name's file; /proc/sys/kernel/hostname (per UTS namespace). */
  readonly kernelHostnameFile?: string;
}

/** DNS labels of letters, digits and "-", dot-separated, at most 64 characters (the kernel's limit). */
const hostnamePattern =
  /^(?=.{1,64}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

async function staticName(file: string): Promise<string | undefined> {
  const text = (await readIfExists(file))?.toString('utf8');
  if (text === undefined) return undefined;
  const line = text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return line?.trim();
}

async function systemdRunning(root: string): Promise<boolean> {
  const st = await fsp.stat(underRoot(root, '/run/systemd/system')).catch(() => null);
  return st?.isDirectory() === true;
}

export function createHostnameExecutor(options: HostnameExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const kernelFile = options.kernelHostnameFile ?? '/proc/sys/kernel/hostname';
  const etcHostname = underRoot(root, '/etc/hostname');
  const setName = async (name: string, ctx: ExecutorContext): Promise<void> => {
    const what = `hostname ${name}`;
    if (await systemdRunning(root)) {
      await runChecked(ctx, what, 'hostnamectl', ['set-hostname', name]);
      return;
    }
    const written = await writeWholeFile(ctx, etcHostname, `${name}\n`);
    if (written.outcome === 'failed') fail(`${what}: ${written.message}`);
    try {
      await fsp.writeFile(kernelFile, name);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      fail(`${what}: cannot set the running name through ${kernelFile} (${e.code ?? e.message})`);
    }
  };
  return {
    type: 'hostname',
    apply: (params, ctx) =>
      guardApply(async () => {
        const name = requiredString(params, 'hostname');
        if (!hostnamePattern.test(name)) {
          fail(
            `hostname "${name.slice(0, 80)}" is not a valid host name (letters, digits, "-" and dots, at most 64)`,
          );
        }
        const running = os.hostname();
        const persisted = await staticName(etcHostname);
        const drift: string[] = [];
        if (running !== name) drift.push(`running name ${running} -> ${name}`);
        if (persisted !== name) drift.push(`/etc/hostname ${persisted ?? '(none)'} -> ${name}`);
        if (drift.length === 0) return result('none', `hostname is ${name}`);
        if (ctx.dryRun) return result('updated', `would set ${drift.join(', ')}`);
        await setName(name, ctx);
        const after = [os.hostname(), await staticName(etcHostname)];
        if (after[0] !== name || after[1] !== name) {
          fail(
            `hostname ${name}: after setting it the host reports ${after[0]} and /etc/hostname has ${after[1] ?? '(none)'}`,
          );
        }
        return result('updated', `set ${drift.join(', ')}`);
      }),
  };
}

export const hostnameExecutor: Executor = createHostnameExecutor();
