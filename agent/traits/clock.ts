/**
 * time {epoch_seconds, utc, utc_offset} (volatile: the clock at collection, never hashed nor sent) and
 * timezone {name}: the host's configured zone, from /etc/timezone (Debian), the
 * /etc/localtime link (systemd: timedatectl set-timezone) or /etc/sysconfig/clock (older RHEL). A
 * host with none of them runs on UTC, as the C library does. The zone's offset is time.utc_offset: the
 * agent runs in the host's zone, and working it out for a named zone would load the ICU zone tables
 * (7 MB of resident memory) for one number.
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
    return { timezone: { name: await configuredZone(env) } };
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
