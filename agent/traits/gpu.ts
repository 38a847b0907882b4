/**
 * gpu {count, devices [{slot, vendor, vendor_id, device_id, driver}], nvidia_driver}: the display
 * controllers (PCI class 0x03) in /sys/bus/pci/devices and the kernel driver bound to each, plus the
 * NVIDIA kernel module's version when it is loaded. At most 64 devices are listed.
 */
import { readdir, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readSysValue, readTextBounded } from './read.ts';
import type { TraitCollector } from './types.ts';

const maxDevices = 64;

const vendorNames: Readonly<Record<string, string>> = {
  '10de': 'NVIDIA',
  '1002': 'AMD',
  '8086': 'Intel',
  '1a03': 'ASPEED',
  '102b': 'Matrox',
  '1af4': 'Red Hat (virtio)',
  '1b36': 'Red Hat (QXL)',
  '1234': 'QEMU',
  '15ad': 'VMware',
  '80ee': 'VirtualBox',
  '1414': 'Microsoft',
  '13b5': 'ARM',
};

function hexId(value: string | null): string | null {
  const match = /^0x([0-9a-f]{4})$/i.exec(value ?? '');
  return match ? match[1]!.toLowerCase() : null;
}

/** "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 …" → 535.129.03 */
export function nvidiaVersion(text: string): string | null {
  return /Kernel Module(?: for [^ ]+)?\s+(\d+(?:\.\d+)+)/.exec(text)?.[1] ?? null;
}

export const gpuCollector: TraitCollector = {
  name: 'gpu',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const root = join(env.sysRoot, 'bus/pci/devices');
    let slots: string[] = [];
    try {
      slots = (await readdir(root))
        .filter((s) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(s))
        .sort();
    } catch {
      // No PCI bus (a container without /sys, some ARM boards): no devices.
    }
    const found = await Promise.all(
      slots.map(async (slot) => {
        const dir = join(root, slot);
        if (!(await readSysValue(join(dir, 'class')))?.toLowerCase().startsWith('0x03')) return null;
        const vendorId = hexId(await readSysValue(join(dir, 'vendor')));
        let driver: string | null = null;
        try {
          driver = basename(await readlink(join(dir, 'driver')));
        } catch {
          // No driver bound.
        }
        return {
          slot,
          vendor: vendorId === null ? null : (vendorNames[vendorId] ?? null),
          vendor_id: vendorId,
          device_id: hexId(await readSysValue(join(dir, 'device'))),
          driver,
        };
      }),
    );
    const devices = found.filter((d) => d !== null).slice(0, maxDevices);
    const nvidia = await readTextBounded(join(env.procRoot, 'driver/nvidia/version'), 4096);
    return {
      gpu: {
        count: devices.length,
        devices,
        nvidia_driver: nvidia === null ? null : nvidiaVersion(nvidia.text),
      },
    };
  },
};
