/**
 * `reboot`: restarts the host when a guard says it is needed, with a reason that is logged and shown
 * to logged-in users — and never in a loop.
 *
 * The guard is `onlyif` (reboot when this command exits 0, e.g. `test -f /var/run/reboot-required`)
 * and/or `unless` (no reboot when it exits 0); one of them is required, so a reboot resource never
 * restarts a host unconditionally. Before rebooting, the executor records the reason and the kernel's
 * boot id in the agent's state dir. Then:
 * - while that boot id is still current, the reboot is pending (the delay has not run out): nothing
 *   more is done;
 * - after the reboot, if the guard still asks for one, rebooting again would only repeat the same
 *   outcome: the resource fails with the loop guard's message and the host stays up until the guard
 *   has once said "not needed", which clears the record.
 * The default command is `shutdown -r +<delay> <reason>` (delay in minutes, default 1), which leaves
 * the agent time to report the run.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { tailLines } from './exec.ts';
import {
  fail,
  guardApply,
  optionalString,
  readIfExists,
  requiredString,
  result,
  writeFileAtomic,
} from './fs-util.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { optionalInt, toolEnv } from './xplat-util.ts';

export interface RebootExecutorOptions {
  /** Where the loop guard keeps its records (the agent's state dir). */
  readonly stateDir?: string;
  /** The current boot's id; /proc/sys/kernel/random/boot_id unless a test points elsewhere. */
  readonly bootIdFile?: string;
  /** Builds the reboot command from the delay and the reason; `shutdown -r` unless a test injects one. */
  readonly command?: (delayMinutes: number, reason: string) => readonly string[];
}

interface RebootRecord {
  readonly reason: string;
  readonly bootId: string;
  readonly requestedAt: string;
}

const defaultCommand = (delay: number, reason: string): string[] => ['shutdown', '-r', `+${delay}`, reason];

async function guardSays(
  ctx: ExecutorContext,
  which: 'onlyif' | 'unless',
  command: string,
): Promise<boolean> {
  const r = await ctx.run('/bin/sh', ['-c', command], { env: toolEnv(), timeoutMs: 60_000 });
  if (r.timedOut) fail(`reboot: the ${which} command timed out`);
  return r.exitCode === 0;
}

async function readRecord(file: string): Promise<RebootRecord | undefined> {
  const raw = await readIfExists(file);
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<RebootRecord>;
    if (typeof v.bootId === 'string' && typeof v.reason === 'string' && typeof v.requestedAt === 'string') {
      return { reason: v.reason, bootId: v.bootId, requestedAt: v.requestedAt };
    }
  } catch {
    // An unreadable record is treated as present: refusing a reboot is the safe side of a doubt.
  }
  return { reason: '(unreadable record)', bootId: '', requestedAt: 'an unknown time' };
}

export function createRebootExecutor(options: RebootExecutorOptions = {}): Executor {
  const stateDir = options.stateDir ?? '/var/lib/vigo';
  const bootIdFile = options.bootIdFile ?? '/proc/sys/kernel/random/boot_id';
  const command = options.command ?? defaultCommand;
  return {
    type: 'reboot',
    apply: (params, ctx) =>
      guardApply(async () => {
        const reason = requiredString(params, 'reason');
        if (reason.length > 200 || /[\n\r]/.test(reason))
          fail('reason must be one line of at most 200 characters');
        const onlyif = optionalString(params, 'onlyif');
        const unless = optionalString(params, 'unless');
        if (onlyif === undefined && unless === undefined) {
          fail('reboot needs a guard: onlyif and/or unless (e.g. onlyif: test -f /var/run/reboot-required)');
        }
        const delay = optionalInt(params, 'delay', 0, 1440) ?? 1;
        const needed =
          (onlyif === undefined || (await guardSays(ctx, 'onlyif', onlyif))) &&
          (unless === undefined || !(await guardSays(ctx, 'unless', unless)));
        // Keyed by the guard, not the reason: a reason that changes from run to run must not reset the loop guard.
        const key = createHash('sha256')
          .update(`${onlyif ?? ''}\0${unless ?? ''}`)
          .digest('hex')
          .slice(0, 16);
        const file = path.join(stateDir, 'reboot', `${key}.json`);
        const record = await readRecord(file);
        if (!needed) {
          if (record !== undefined && !ctx.dryRun) await fsp.rm(file, { force: true });
          return result('none', `no reboot needed (${reason})`);
        }
        const bootId = (await fsp.readFile(bootIdFile, 'utf8')).trim();
        if (record?.bootId === bootId) {
          return result(
            'none',
            `reboot already requested at ${record.requestedAt} (${reason}); waiting for it`,
          );
        }
        if (record !== undefined) {
          fail(
            `loop guard: the host was rebooted for "${record.reason}" (requested ${record.requestedAt}) and the ` +
              `guard still asks for a reboot; not rebooting again until the guard has once said it is not needed`,
          );
        }
        if (ctx.dryRun) return result('updated', `would reboot in ${delay} min: ${reason}`);
        const entry: RebootRecord = { reason, bootId, requestedAt: new Date().toISOString() };
        await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        // Written (and synced) before the command, so even an instant reboot leaves the record behind.
        await writeFileAtomic(file, `${JSON.stringify(entry)}\n`, {
          uid: process.getuid?.() ?? 0,
          gid: process.getgid?.() ?? 0,
          mode: 0o600,
        });
        const [program = 'shutdown', ...args] = command(delay, reason);
        const r = await ctx.run(program, args, { env: toolEnv(), timeoutMs: 60_000 });
        if (r.exitCode !== 0) {
          await fsp.rm(file, { force: true });
          const how = r.timedOut ? 'timed out' : `failed (exit ${r.exitCode ?? 'killed'})`;
          fail(`reboot: \`${program} ${args.join(' ')}\` ${how}: ${tailLines(r.stderr || r.stdout, 5)}`);
        }
        return result('updated', `reboot in ${delay} min requested: ${reason}`);
      }),
  };
}

export const rebootExecutor: Executor = createRebootExecutor();
