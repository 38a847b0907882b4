/**
 * systemd through systemctl. State comes from one `systemctl show` call, which — unlike is-active — can
 * tell an unknown unit (LoadState=not-found) from a stopped one.
 */
import { tailLines } from '../exec.ts';
import type { CommandRunner } from '../types.ts';
import type { ServiceProvider, ServiceStatus } from './types.ts';

const runningStates = new Set(['active', 'reloading', 'refreshing']);
const enabledStates = new Set(['enabled', 'enabled-runtime', 'alias']);
const disabledStates = new Set(['disabled', 'linked', 'linked-runtime', 'masked', 'masked-runtime']);

function parseShow(stdout: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return props;
}

export function createSystemdProvider(run: CommandRunner): ServiceProvider {
  const systemctl = async (verb: string, service: string): Promise<void> => {
    const r = await run('systemctl', [verb, service]);
    if (r.exitCode !== 0) {
      const detail = tailLines(r.stderr || r.stdout, 3);
      throw new Error(
        `systemctl ${verb} ${service} failed (exit ${r.exitCode ?? 'killed'})${detail ? `: ${detail}` : ''}`,
      );
    }
  };
  return {
    name: 'systemd',
    async status(service): Promise<ServiceStatus | undefined> {
      const r = await run('systemctl', ['show', '--property=LoadState,ActiveState,UnitFileState', service]);
      if (r.exitCode !== 0) {
        throw new Error(
          `systemctl show ${service} failed (exit ${r.exitCode ?? 'killed'}): ${tailLines(r.stderr, 3)}`,
        );
      }
      const props = parseShow(r.stdout);
      const load = props.get('LoadState') ?? '';
      if (load === 'not-found' || load === '') return undefined;
      if (load === 'masked')
        throw new Error(`unit ${service} is masked; unmask it (systemctl unmask ${service}) first`);
      const fileState = props.get('UnitFileState') ?? '';
      const enabled = enabledStates.has(fileState) ? true : disabledStates.has(fileState) ? false : undefined;
      return { running: runningStates.has(props.get('ActiveState') ?? ''), enabled };
    },
    start: (s) => systemctl('start', s),
    stop: (s) => systemctl('stop', s),
    restart: (s) => systemctl('restart', s),
    reload: (s) => systemctl('reload', s),
    setEnabled: (s, enabled) => systemctl(enabled ? 'enable' : 'disable', s),
  };
}
