/**
 * s6 supervision: a service is the directory `<scan dir>/<name>` watched by s6-svscan. Running state comes
 * from s6-svstat ("up (pid …) …" / "down (exitcode …) …"); s6-svc changes it and, with -w, waits until
 * the supervisor reports the new state. "Enabled" is s6's own convention: a `down` file in the service
 * directory keeps the service down when the supervision tree starts.
 */
import { lstat, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tailLines } from '../exec.ts';
import type { CommandRunner } from '../types.ts';
import type { ServiceProvider, ServiceStatus } from './types.ts';

/** Scan directories tried in order: s6-overlay v3 and s6-linux-init use /run/service, older setups /service. */
export const defaultS6ScanDirs: readonly string[] = ['/run/service', '/service'];
/** How long s6-svc waits for the supervisor to confirm a state change. */
export const s6WaitMs = 10_000;

export function createS6Provider(run: CommandRunner, scanDir: string): ServiceProvider {
  const dirOf = (service: string): string => join(scanDir, service);
  const svc = async (flags: string[], service: string): Promise<void> => {
    const r = await run('s6-svc', [...flags, dirOf(service)]);
    if (r.exitCode !== 0) {
      const detail = tailLines(r.stderr || r.stdout, 3);
      throw new Error(
        `s6-svc ${flags.join(' ')} ${dirOf(service)} failed (exit ${r.exitCode ?? 'killed'})${detail ? `: ${detail}` : ''}`,
      );
    }
  };
  const wait = ['-T', String(s6WaitMs)];
  return {
    name: 's6',
    async status(service): Promise<ServiceStatus | undefined> {
      const st = await stat(dirOf(service)).catch(() => undefined);
      if (!st?.isDirectory()) return undefined;
      const r = await run('s6-svstat', [dirOf(service)]);
      const word = r.stdout.trim().split(/\s+/)[0];
      if (r.exitCode !== 0 || (word !== 'up' && word !== 'down')) {
        throw new Error(
          `s6-svstat ${dirOf(service)} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr || r.stdout, 3)}`,
        );
      }
      const downFile = await lstat(join(dirOf(service), 'down')).catch(() => undefined);
      return { running: word === 'up', enabled: downFile === undefined };
    },
    start: (s) => svc(['-wu', ...wait, '-u'], s),
    stop: (s) => svc(['-wd', ...wait, '-d'], s),
    restart: (s) => svc(['-wr', ...wait, '-r'], s),
    reload: (s) => svc(['-h'], s),
    async setEnabled(service, enabled) {
      const downFile = join(dirOf(service), 'down');
      if (enabled) await rm(downFile, { force: true });
      else await writeFile(downFile, '', { mode: 0o644 });
    },
  };
}
