/**
 * systemg through its `sysg` CLI. `sysg status --service <name>` prints a human table or block whose wording
 * differs between releases ("Status: running", "hello  running  42309", "● - hello Running"), so the status
 * word is read leniently: a stop word (stopped, exited, failed, inactive, not running) wins over "running".
 * systemg starts every configured service with its supervisor: it has no per-service boot switch, and no
 * reload action.
 */
import { tailLines } from '../exec.ts';
import type { CommandRunner } from '../types.ts';
import type { ServiceProvider, ServiceStatus } from './types.ts';

const unknownService = /not found|unknown service|no such service|does not exist|no service named/i;
const stoppedWords = /\b(not running|stopped|exited|failed|inactive|dead)\b/i;
const runningWords = /\b(running|active)\b/i;

/** Whether `sysg status` output says the service runs; undefined when it names no state at all. */
export function parseSystemgStatus(output: string, service: string): boolean | undefined {
  const lines = output.split('\n');
  // Prefer the lines about this service (table row or "Service:"/"Status:" block); fall back to all output.
  const own = lines.filter((l) => l.includes(service) || /^\s*(status|active)\s*:/i.test(l));
  for (const text of [own.join('\n'), output]) {
    if (stoppedWords.test(text)) return false;
    if (runningWords.test(text)) return true;
  }
  return undefined;
}

export function createSystemgProvider(run: CommandRunner): ServiceProvider {
  const sysg = async (args: string[]): Promise<void> => {
    const r = await run('sysg', args);
    if (r.exitCode !== 0) {
      const detail = tailLines(r.stderr || r.stdout, 3);
      throw new Error(
        `sysg ${args.join(' ')} failed (exit ${r.exitCode ?? 'killed'})${detail ? `: ${detail}` : ''}`,
      );
    }
  };
  return {
    name: 'systemg',
    async status(service): Promise<ServiceStatus | undefined> {
      const r = await run('sysg', ['status', '--service', service]);
      const output = `${r.stdout}\n${r.stderr}`;
      if (unknownService.test(output)) return undefined;
      // Some releases exit non-zero for a stopped service, so the words decide; 127 means no sysg at all.
      const running = r.exitCode === 127 ? undefined : parseSystemgStatus(r.stdout, service);
      if (running === undefined) {
        throw new Error(
          `cannot read the state of ${service} from sysg status (exit ${r.exitCode ?? 'killed'}): ${tailLines(output, 3)}`,
        );
      }
      return { running, enabled: undefined };
    },
    // --daemonize starts the resident supervisor when none runs; without it sysg would stay in the foreground.
    start: (s) => sysg(['start', '--daemonize', '--service', s]),
    stop: (s) => sysg(['stop', '--service', s]),
    restart: (s) => sysg(['restart', '--service', s]),
    async reload(service) {
      throw new Error(`systemg cannot reload ${service}; use state: restarted instead`);
    },
    async setEnabled(service) {
      throw new Error(`systemg has no boot-time switch for ${service}`);
    },
  };
}
