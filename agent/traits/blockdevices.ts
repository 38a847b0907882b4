/**
 * blockdevices [{name, size_mb, model, vendor, rotational, removable, read_only, partitions}]: the disks
 * the kernel lists in /sys/block, with their partitions [{name, size_mb}]. Loop and RAM disks (one
 * per snap on Ubuntu) are left out; at most 256 devices of 128 partitions each are listed.
 */
import { readdir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { readSysValue } from './read.ts';
import type { TraitCollector } from './types.ts';

const maxDevices = 256;
const maxPartitions = 128;
const skipped = /^(loop|ram)\d+$/;
const validName = /^[A-Za-z0-9._:+-]{1,64}$/;

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** A size attribute in 512-byte sectors, in MiB; null when unreadable. */
async function sizeMb(dir: string): Promise<number | null> {
  const sectors = Number(await readSysValue(join(dir, 'size')));
  return Number.isSafeInteger(sectors) && sectors >= 0 ? Math.floor(sectors / 2048) : null;
}

async function flag(path: string): Promise<boolean | null> {
  const value = await readSysValue(path);
  return value === '1' ? true : value === '0' ? false : null;
}

export const blockdevicesCollector: TraitCollector = {
  name: 'blockdevices',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const root = join(env.sysRoot, 'block');
    const names = (await entries(root))
      .filter(
        (e) => (e.isSymbolicLink() || e.isDirectory()) && validName.test(e.name) && !skipped.test(e.name),
      )
      .map((e) => e.name)
      .sort()
      .slice(0, maxDevices);
    const devices = await Promise.all(
      names.map(async (name) => {
        const dir = join(root, name);
        const children = await entries(dir);
        const partitionNames = (
          await Promise.all(
            children
              .filter((c) => c.isDirectory() && c.name.startsWith(name) && validName.test(c.name))
              .map(async (c) =>
                (await readSysValue(join(dir, c.name, 'partition'))) === null ? null : c.name,
              ),
          )
        )
          .filter((n): n is string => n !== null)
          .sort()
          .slice(0, maxPartitions);
        return {
          name,
          size_mb: await sizeMb(dir),
          model: await readSysValue(join(dir, 'device/model')),
          vendor: await readSysValue(join(dir, 'device/vendor')),
          rotational: await flag(join(dir, 'queue/rotational')),
          removable: await flag(join(dir, 'removable')),
          read_only: await flag(join(dir, 'ro')),
          partitions: await Promise.all(
            partitionNames.map(async (p) => ({ name: p, size_mb: await sizeMb(join(dir, p)) })),
          ),
        };
      }),
    );
    return { blockdevices: devices };
  },
};
