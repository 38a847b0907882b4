/**
 * security_scan {manager, security_updates, pending_updates, packages}: the updates waiting on this host
 * that fix security problems, as the package manager sees them from its local metadata — apt-get's
 * simulated dist-upgrade (an update counts when its origin is a -security archive) or dnf/yum
 * updateinfo from the cache. Nothing is downloaded and nothing changes; the command is bounded to 50
 * seconds and the result is cached like every stable trait (an hour by default). `packages` lists at
 * most 500 names, sorted. `pending_updates` counts every update (apt only; null with dnf and yum).
 */
import type { CommandResult } from '../executors/types.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const commandTimeoutMs = 50_000;
const maxPackages = 500;

export interface ScanResult {
  readonly pending: number | null;
  readonly security: string[];
}

/** `Inst name [old] (new Origin:release/suite-security [arch])` lines of `apt-get -s dist-upgrade`. */
export function parseAptSimulation(text: string): ScanResult {
  let pending = 0;
  const security = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^Inst (\S+)(?: \[[^\]]*\])? \(([^)]*)\)/.exec(line);
    if (!match) continue;
    pending++;
    if (/-security\b|\bsecurity\b/i.test(match[2]!)) security.add(match[1]!);
  }
  return { pending, security: [...security].sort() };
}

/** `ADVISORY  Severity/Sec.  name-[epoch:]version-release.arch` lines of `dnf updateinfo list --security`. */
export function parseUpdateinfo(text: string): ScanResult {
  const security = new Set<string>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || !/\/Sec\.?$|^security$/i.test(fields[1]!)) continue;
    // name-version-release.arch: the name is everything before the second-to-last dash.
    const nevra = fields[fields.length - 1]!;
    const name = /^(.+)-[^-]+-[^-]+$/.exec(nevra)?.[1];
    if (name !== undefined) security.add(name);
  }
  return { pending: null, security: [...security].sort() };
}

async function scan(env: TraitEnv): Promise<{ manager: string; result: ScanResult | null }> {
  const options = { timeoutMs: commandTimeoutMs, env: { LC_ALL: 'C' } };
  const apt = await env.run('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], options);
  if (apt.exitCode !== 127) return { manager: 'apt', result: checked('apt-get', apt, parseAptSimulation) };
  for (const dnf of ['dnf', 'yum']) {
    const r = await env.run(dnf, ['-q', '-C', 'updateinfo', 'list', '--security'], options);
    if (r.exitCode !== 127) return { manager: dnf, result: checked(dnf, r, parseUpdateinfo) };
  }
  return { manager: 'none', result: null };
}

function checked(program: string, r: CommandResult, parse: (text: string) => ScanResult): ScanResult {
  if (r.timedOut) throw new Error(`${program} did not answer within ${commandTimeoutMs} ms`);
  if (r.exitCode !== 0)
    throw new Error(`${program} exited with ${r.exitCode}: ${r.stderr.trim().slice(0, 300)}`);
  return parse(r.stdout);
}

export const securityScanCollector: TraitCollector = {
  name: 'security_scan',
  volatile: false,
  background: true,
  timeoutMs: 60_000,
  async collect(env) {
    const { manager, result } = await scan(env);
    return {
      security_scan: {
        manager,
        security_updates: result?.security.length ?? null,
        pending_updates: result?.pending ?? null,
        packages: result?.security.slice(0, maxPackages) ?? [],
      },
    };
  },
};
