/**
 * `timezone`: the host's time zone — /etc/localtime as a link to /usr/share/zoneinfo/<zone>, and on
 * Debian-family hosts /etc/timezone holding the zone's name.
 *
 * The zone must exist in the zoneinfo database (a TZif file), so a typo fails instead of leaving the
 * host on UTC. Where systemd runs, `timedatectl set-timezone` makes the change (it also tells running
 * programs); elsewhere the link is replaced atomically. /etc/localtime as a copied file rather than a
 * link counts as correct when its bytes are the zone's. There is no state: a host always has a zone.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fail, guardApply, lstatIfExists, readIfExists, requiredString, result } from './fs-util.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { runChecked, underRoot, writeWholeFile, type RootOptions } from './unix-util.ts';

export interface TimezoneExecutorOptions extends RootOptions {
  /** The zoneinfo database read to check a zone; <root>/usr/share/zoneinfo by default. */
  readonly zoneinfoDir?: string;
}

const zonePattern = /^[A-Za-z0-9_+-]{1,64}(\/[A-Za-z0-9_+-]{1,64}){0,3}$/;
const zoneinfoPrefix = '/usr/share/zoneinfo/';

/** The zone /etc/localtime names, or undefined when it is not a link into a zoneinfo directory. */
async function linkedZone(localtime: string): Promise<string | undefined> {
  const st = await lstatIfExists(localtime);
  if (!st?.isSymbolicLink()) return undefined;
  const target = await fsp.readlink(localtime);
  const at = target.indexOf('zoneinfo/');
  return at >= 0 ? target.slice(at + 'zoneinfo/'.length).replace(/^(posix|right)\//, '') : undefined;
}

async function currentZone(
  localtime: string,
  zoneBytes: Buffer,
): Promise<{ name: string; matches: boolean }> {
  const linked = await linkedZone(localtime);
  if (linked !== undefined) return { name: linked, matches: false };
  const st = await lstatIfExists(localtime);
  if (st?.isFile()) {
    const same = (await fsp.readFile(localtime)).equals(zoneBytes);
    return { name: same ? '(a copy of the zone file)' : '(a copied zone file)', matches: same };
  }
  return { name: st ? '(not a zone link)' : '(none)', matches: false };
}

export function createTimezoneExecutor(options: TimezoneExecutorOptions = {}): Executor {
  const root = options.root ?? '/';
  const zoneinfo = options.zoneinfoDir ?? underRoot(root, '/usr/share/zoneinfo');
  const localtime = underRoot(root, '/etc/localtime');
  const etcTimezone = underRoot(root, '/etc/timezone');

  const debianStyle = async (): Promise<boolean> =>
    (await lstatIfExists(etcTimezone)) !== null ||
    (await lstatIfExists(underRoot(root, '/etc/debian_version'))) !== null;

  const setZone = async (zone: string, ctx: ExecutorContext, what: string): Promise<void> => {
    const systemd = await fsp.stat(underRoot(root, '/run/systemd/system')).catch(() => null);
    if (systemd?.isDirectory() === true) {
      await runChecked(ctx, what, 'timedatectl', ['set-timezone', zone]);
    } else {
      const st = await lstatIfExists(localtime);
      if (st?.isFile()) await ctx.snapshotFile(localtime);
      const temp = path.join(path.dirname(localtime), `.localtime.vigo-${randomBytes(6).toString('hex')}`);
      await fsp.symlink(`${zoneinfoPrefix}${zone}`, temp);
      try {
        await fsp.rename(temp, localtime);
      } catch (err) {
        await fsp.rm(temp, { force: true });
        throw err;
      }
    }
    if (await debianStyle()) {
      const written = await writeWholeFile(ctx, etcTimezone, `${zone}\n`);
      if (written.outcome === 'failed') fail(`${what}: ${written.message}`);
    }
  };

  return {
    type: 'timezone',
    apply: (params, ctx) =>
      guardApply(async () => {
        const zone = requiredString(params, 'timezone');
        if (!zonePattern.test(zone))
          fail(`timezone "${zone.slice(0, 80)}" is not a zone name such as Europe/Paris or UTC`);
        const what = `timezone ${zone}`;
        const zoneBytes = await readIfExists(path.join(zoneinfo, zone));
        if (zoneBytes === null || zoneBytes.subarray(0, 4).toString('latin1') !== 'TZif') {
          fail(`${what}: unknown time zone (no zone file ${path.join(zoneinfo, zone)})`);
        }
        const drift: string[] = [];
        const now = await currentZone(localtime, zoneBytes);
        if (now.name !== zone && !now.matches) drift.push(`/etc/localtime ${now.name} -> ${zone}`);
        if (await debianStyle()) {
          const named = (await readIfExists(etcTimezone))?.toString('utf8').trim();
          if (named !== zone) drift.push(`/etc/timezone ${named ?? '(none)'} -> ${zone}`);
        }
        if (drift.length === 0) return result('none', `time zone is ${zone}`);
        if (ctx.dryRun) return result('updated', `would set ${drift.join(', ')}`);
        await setZone(zone, ctx, what);
        if ((await linkedZone(localtime)) !== zone && !(await currentZone(localtime, zoneBytes)).matches) {
          fail(`${what}: after setting it /etc/localtime still does not name ${zone}`);
        }
        return result('updated', `set ${drift.join(', ')}`);
      }),
  };
}

export const timezoneExecutor: Executor = createTimezoneExecutor();
