/**
 * time {epoch_seconds, utc, utc_offset} (volatile: the clock at collection, never hashed nor sent) and
 * timezone {name, utc_offset}: the host's configured zone, from /etc/timezone (Debian), the
 * /etc/localtime link (systemd: timedatectl set-timezone) or /etc/sysconfig/clock (older RHEL). A
 * host with none of them runs on UTC, as the C library does.
 */
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseOsRelease } from './os.ts';
import { readTextOrNull } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const zoneName = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+){0,3}$/;

/** "+01:00" for 60 minutes east of UTC. */
export function formatOffset(minutesEast: number): string {
  const sign = minutesEast < 0 ? '-' : '+';
  const abs = Math.abs(minutesEast);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The zone's offset from UTC at `date` ("+05:30"), or null when the zone is not one Intl knows. */
export function zoneOffset(name: string, date: Date): string | null {
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' })
      .formatToParts(date)
      .find((p) => p.type === 'timeZoneName')?.value;
    if (part === undefined) return null;
    if (part === 'GMT') return '+00:00';
    const match = /^GMT([+-]\d{2}):?(\d{2})?$/.exec(part);
    return match ? `${match[1]}:${match[2] ?? '00'}` : null;
  } catch {
    return null;
  }
}

async function configuredZone(env: TraitEnv): Promise<string> {
  const debian = (await readTextOrNull(join(env.etcRoot, 'timezone')))?.trim();
  if (debian !== undefined && zoneName.test(debian)) return debian;
  try {
    const target = await readlink(join(env.etcRoot, 'localtime'));
    const at = target.lastIndexOf('zoneinfo/');
    const name = at < 0 ? '' : target.slice(at + 'zoneinfo/'.length).replace(/^(posix|right)\//, '');
    if (zoneName.test(name)) return name;
  } catch {
    // Not a link (a copied zone file) or absent: the older files may say.
  }
  const clock = await readTextOrNull(join(env.etcRoot, 'sysconfig/clock'));
  const zone = clock === null ? undefined : parseOsRelease(clock).get('ZONE');
  if (zone !== undefined && zoneName.test(zone)) return zone;
  return 'UTC';
}

export const timezoneCollector: TraitCollector = {
  name: 'timezone',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const name = await configuredZone(env);
    return { timezone: { name, utc_offset: zoneOffset(name, new Date()) } };
  },
};

export const timeCollector: TraitCollector = {
  name: 'time',
  volatile: true,
  timeoutMs: 1000,
  collect() {
    const now = new Date();
    return Promise.resolve({
      time: {
        epoch_seconds: Math.floor(now.getTime() / 1000),
        utc: now.toISOString(),
        utc_offset: formatOffset(-now.getTimezoneOffset()),
      },
    });
  },
};
