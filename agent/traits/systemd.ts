/**
 * systemd {present, units}: whether systemd is the init system (the sd_booted(3) test) and, when it
 * is, the names of the running services.
 */
import { join } from 'node:path';
import { existsPath } from './read.ts';
import type { TraitCollector } from './types.ts';

const listTimeoutMs = 5000;

/** `systemctl list-units --plain --no-legend` lines: the unit name is the first column. */
export function parseUnitList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.endsWith('.service'))
    .sort();
}

export const systemdCollector: TraitCollector = {
  name: 'systemd',
  volatile: false,
  timeoutMs: listTimeoutMs + 1000,
  async collect(env) {
    if (!(await existsPath(join(env.runRoot, 'systemd/system')))) return { systemd: { present: false } };
    const args = ['list-units', '--type=service', '--state=running', '--plain', '--no-legend', '--no-pager'];
    const result = await env.run('systemctl', args, { timeoutMs: listTimeoutMs, env: { LC_ALL: 'C' } });
    if (result.exitCode !== 0)
      throw new Error(
        `systemctl ${args.join(' ')} failed (${result.timedOut ? 'timed out' : `exit ${result.exitCode}`}): ` +
          result.stderr.trim().slice(0, 500),
      );
    return { systemd: { present: true, units: parseUnitList(result.stdout) } };
  },
};
