/** uptime_seconds and load {1m, 5m, 15m}: volatile, read on every run and left out of the traits hash. */
import { join } from 'node:path';
import { readTextRequired } from './read.ts';
import type { TraitCollector } from './types.ts';

function leadingNumbers(text: string, count: number, path: string): number[] {
  const numbers = text.trim().split(/\s+/).slice(0, count).map(Number);
  if (numbers.length < count || numbers.some((n) => !Number.isFinite(n)))
    throw new Error(`cannot parse ${path}: expected ${count} numbers, got ${JSON.stringify(text.trim())}`);
  return numbers;
}

export const uptimeCollector: TraitCollector = {
  name: 'loadavg',
  volatile: true,
  timeoutMs: 5000,
  async collect(env) {
    const uptimePath = join(env.procRoot, 'uptime');
    const loadPath = join(env.procRoot, 'loadavg');
    const [uptime] = leadingNumbers(await readTextRequired(uptimePath, 'the uptime'), 1, uptimePath);
    const [m1, m5, m15] = leadingNumbers(await readTextRequired(loadPath, 'the load average'), 3, loadPath);
    return { uptime_seconds: Math.floor(uptime!), load: { '1m': m1, '5m': m5, '15m': m15 } };
  },
};
