/**
 * dmi {available, vendor, product, version, serial, uuid, board, bios, chassis}: what the firmware's
 * SMBIOS tables say about the machine, from /sys/class/dmi/id. The serial number and UUID are readable
 * by root only; as another user, and for values vendors leave as placeholders ("To be filled by
 * O.E.M."), they are null. Hosts without DMI (most ARM boards, some containers) report available false.
 * Vigo stacks read the same trait as `hardware`.
 */
import { join } from 'node:path';
import { existsPath, readSysValue } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const placeholders =
  /^(to be filled by o\.?e\.?m\.?|not specified|not applicable|default string|system serial number|system product name|system manufacturer|none|n\/a|unknown|0+|0123456789|x+|\s*)$/i;

/** SMBIOS 3.x chassis types (DSP0134 7.4.1), lowercase with underscores. */
const chassisTypes = [
  '',
  'other',
  'unknown',
  'desktop',
  'low_profile_desktop',
  'pizza_box',
  'mini_tower',
  'tower',
  'portable',
  'laptop',
  'notebook',
  'hand_held',
  'docking_station',
  'all_in_one',
  'sub_notebook',
  'space_saving',
  'lunch_box',
  'main_server_chassis',
  'expansion_chassis',
  'sub_chassis',
  'bus_expansion_chassis',
  'peripheral_chassis',
  'raid_chassis',
  'rack_mount_chassis',
  'sealed_case_pc',
  'multi_system_chassis',
  'compact_pci',
  'advanced_tca',
  'blade',
  'blade_enclosure',
  'tablet',
  'convertible',
  'detachable',
  'iot_gateway',
  'embedded_pc',
  'mini_pc',
  'stick_pc',
];

export function chassisName(code: string | null): string | null {
  const n = Number(code);
  return Number.isInteger(n) && n > 0 && n < chassisTypes.length ? chassisTypes[n]! : null;
}

/** The attributes of /sys/class/dmi/id this collector and the cloud collector read. */
export interface DmiFields {
  readonly available: boolean;
  readonly get: (attribute: string) => string | null;
}

const attributes = [
  'sys_vendor',
  'product_name',
  'product_version',
  'product_serial',
  'product_uuid',
  'board_vendor',
  'board_name',
  'bios_vendor',
  'bios_version',
  'bios_date',
  'chassis_type',
  'chassis_asset_tag',
  'chassis_vendor',
  'board_asset_tag',
];

export async function readDmi(env: TraitEnv): Promise<DmiFields> {
  const dir = join(env.sysRoot, 'class/dmi/id');
  if (!(await existsPath(dir))) return { available: false, get: () => null };
  const values = await Promise.all(attributes.map((a) => readSysValue(join(dir, a))));
  const byName = new Map(attributes.map((a, i) => [a, values[i] ?? null]));
  return {
    available: true,
    get: (attribute) => {
      const value = byName.get(attribute) ?? null;
      return value === null || placeholders.test(value) ? null : value;
    },
  };
}

export const dmiCollector: TraitCollector = {
  name: 'dmi',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const dmi = await readDmi(env);
    const v = dmi.get;
    return {
      dmi: {
        available: dmi.available,
        vendor: v('sys_vendor'),
        product: v('product_name'),
        version: v('product_version'),
        serial: v('product_serial'),
        uuid: v('product_uuid')?.toLowerCase() ?? null,
        board: { vendor: v('board_vendor'), name: v('board_name') },
        bios: { vendor: v('bios_vendor'), version: v('bios_version'), date: v('bios_date') },
        chassis: { type: chassisName(v('chassis_type')), asset_tag: v('chassis_asset_tag') },
      },
    };
  },
};
