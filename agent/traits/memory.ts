/**
 * memory {total_mb, free_mb, available_mb} and swap {total_mb, free_mb} from /proc/meminfo, in MiB
 * rounded down. Totals are stable; the free figures are volatile and left out of the traits hash.
 */
import { join } from 'node:path';
import { bytesToMb, parseColonLines, readTextRequired } from './read.ts';
import type { TraitCollector } from './types.ts';

function kibField(fields: Map<string, string>, key: string): number | undefined {
  const match = /^(\d+)\s*kB$/i.exec(fields.get(key) ?? '');
  return match ? Number(match[1]) * 1024 : undefined;
}

export const memoryCollector: TraitCollector = {
  name: 'memory',
  volatile: true,
  timeoutMs: 5000,
  async collect(env) {
    const path = join(env.procRoot, 'meminfo');
    const fields = parseColonLines(await readTextRequired(path, 'memory figures'));
    const total = kibField(fields, 'MemTotal');
    const free = kibField(fields, 'MemFree');
    if (total === undefined || free === undefined)
      throw new Error(`cannot read memory figures: ${path} has no MemTotal/MemFree lines in kB`);
    // Kernels before 3.14 have no MemAvailable; free + buffers + page cache is the classic estimate.
    const available =
      kibField(fields, 'MemAvailable') ??
      free + (kibField(fields, 'Buffers') ?? 0) + (kibField(fields, 'Cached') ?? 0);
    return {
      memory: { total_mb: bytesToMb(total), free_mb: bytesToMb(free), available_mb: bytesToMb(available) },
      swap: {
        total_mb: bytesToMb(kibField(fields, 'SwapTotal') ?? 0),
        free_mb: bytesToMb(kibField(fields, 'SwapFree') ?? 0),
      },
    };
  },
};
