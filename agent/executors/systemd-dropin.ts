/**
 * `systemd_dropin`: one drop-in file, /etc/systemd/system/<unit>.d/<dropin>.conf, holding exactly
 * `content`. After the file changes (written or removed) systemd is told to re-read its units
 * (`systemctl daemon-reload`), so a service this resource notifies restarts with the new settings:
 * the engine applies notify targets after the notifier, and a notified `state: running` service is
 * restarted. daemon_reload: false leaves the reload to someone else.
 *
 * The drop-in's file name is `dropin`, else the resource name; a unit without a suffix is taken as a
 * `.service`. When systemd is not the running init (no /run/systemd/system) the file is still written
 * and the message says that no reload was done.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  fail,
  guardApply,
  optionalBool,
  optionalString,
  requiredString,
  result,
  stateParam,
} from './fs-util.ts';
import type { Executor, ExecutorContext, ExecutorResult } from './types.ts';
import {
  changed,
  fileStem,
  removeWholeFile,
  runChecked,
  safeName,
  underRoot,
  writeWholeFile,
  type RootOptions,
} from './unix-util.ts';

const maxContentBytes = 256 * 1024;
const unitSuffix = /\.(service|socket|timer|mount|automount|swap|target|path|slice|scope|device)$/;

function unitName(raw: string): string {
  const unit = safeName(raw, 'unit', 'nginx.service');
  return unitSuffix.test(unit) ? unit : `${unit}.service`;
}

async function systemdRunning(root: string): Promise<boolean> {
  const st = await fsp.stat(underRoot(root, '/run/systemd/system')).catch(() => null);
  return st?.isDirectory() === true;
}

async function reload(
  root: string,
  ctx: ExecutorContext,
  what: string,
  base: ExecutorResult,
): Promise<ExecutorResult> {
  if (!(await systemdRunning(root))) {
    return result(base.outcome, `${base.message}; systemd is not running here, so no daemon-reload`);
  }
  if (ctx.dryRun) return result(base.outcome, `${base.message}; would run systemctl daemon-reload`);
  await runChecked(ctx, what, 'systemctl', ['daemon-reload']);
  return result(base.outcome, `${base.message}; ran systemctl daemon-reload`);
}

export function createSystemdDropinExecutor(options: RootOptions = {}): Executor {
  const root = options.root ?? '/';
  return {
    type: 'systemd_dropin',
    apply: (params, ctx) =>
      guardApply(async () => {
        const unit = unitName(requiredString(params, 'unit'));
        const stem = fileStem(params, 'dropin', 'limits').replace(/\.conf$/, '');
        const dir = underRoot(root, path.join('/etc/systemd/system', `${unit}.d`));
        const file = path.join(dir, `${stem}.conf`);
        const what = `systemd_dropin ${unit}/${stem}.conf`;
        const daemonReload = optionalBool(params, 'daemon_reload', true);
        let r: ExecutorResult;
        if (stateParam(params) === 'absent') {
          r = await removeWholeFile(ctx, file);
          if (r.outcome === 'deleted' && !ctx.dryRun) await fsp.rmdir(dir).catch(() => undefined);
        } else {
          const content = optionalString(params, 'content');
          if (content === undefined) fail(`${what}: content is required when state is present`);
          if (Buffer.byteLength(content) > maxContentBytes) {
            fail(`${what}: content is larger than ${maxContentBytes} bytes`);
          }
          const text = content === '' || content.endsWith('\n') ? content : `${content}\n`;
          r = await writeWholeFile(ctx, file, text);
        }
        if (r.outcome === 'failed' || !changed(r) || !daemonReload) return r;
        return reload(root, ctx, what, r);
      }),
  };
}

export const systemdDropinExecutor: Executor = createSystemdDropinExecutor();
