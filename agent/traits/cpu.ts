/** cpu {count, model}: logical processors and the model name from /proc/cpuinfo. */
import { join } from 'node:path';
import { parseColonLines, readTextOrNull, readTextRequired } from './read.ts';
import type { TraitCollector } from './types.ts';

// x86 says "model name"; 32-bit ARM "Processor" or "Hardware"; MIPS "cpu model"; POWER "cpu".
const modelKeys = ['model name', 'Processor', 'cpu model', 'Hardware', 'cpu'];

/** Counts a sysfs CPU list such as "0-3,6,8-9". */
export function countCpuList(list: string): number {
  let count = 0;
  for (const part of list.trim().split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) return 0;
    count += match[2] === undefined ? 1 : Number(match[2]) - Number(match[1]) + 1;
  }
  return count;
}

export const cpuCollector: TraitCollector = {
  name: 'processors',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const cpuinfo = await readTextRequired(join(env.procRoot, 'cpuinfo'), 'the CPU list');
    let count = cpuinfo.split('\n').filter((line) => /^processor\s*:\s*\d/.test(line)).length;
    if (count === 0) {
      const online = await readTextOrNull(join(env.sysRoot, 'devices/system/cpu/online'));
      count = online === null ? 0 : countCpuList(online);
    }
    if (count === 0) throw new Error(`cannot count processors: ${join(env.procRoot, 'cpuinfo')} lists none`);
    const fields = parseColonLines(cpuinfo);
    const model = modelKeys.map((k) => fields.get(k)).find((v) => v !== undefined && v !== '') ?? null;
    return { cpu: { count, model } };
  },
};
