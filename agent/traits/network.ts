/**
 * network {interfaces: [{name, mac, addresses}]}: every interface sysfs lists (down ones too, with no
 * addresses) and the addresses getifaddrs reports, as CIDR text ("192.0.2.5/24", "fe80::1/64").
 */
import { readdir } from 'node:fs/promises';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { readTextOrNull } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

async function sysfsInterfaces(env: TraitEnv): Promise<string[]> {
  try {
    const entries = await readdir(join(env.sysRoot, 'class/net'), { withFileTypes: true });
    // Interfaces are symlinks into /sys/devices; plain files there (bonding_masters) are not interfaces.
    return entries.filter((e) => e.isSymbolicLink() || e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

function cidr(info: NetworkInterfaceInfo): string {
  if (info.cidr !== null) return info.cidr;
  return info.address;
}

export const networkCollector: TraitCollector = {
  name: 'network',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const byName = env.networkInterfaces();
    const names = new Set([...(await sysfsInterfaces(env)), ...Object.keys(byName)]);
    const interfaces = await Promise.all(
      [...names].sort().map(async (name) => {
        const infos = byName[name] ?? [];
        const sysfsMac = (await readTextOrNull(join(env.sysRoot, 'class/net', name, 'address')))?.trim();
        return {
          name,
          mac: sysfsMac || infos[0]?.mac || null,
          addresses: infos.map(cidr),
        };
      }),
    );
    return { network: { interfaces } };
  },
};
