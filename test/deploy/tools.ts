/**
 * The Debian tools the deployment tests drive: systemd (systemd-notify, systemd-analyze), python3 (a
 * real Unix datagram receiver), dpkg-deb, lintian, unshare. CI installs the missing ones (.ci/run) and
 * sets VIGO_REQUIRE_DEPLOY_TOOLS=1, so there a missing tool fails its tests; elsewhere they are skipped,
 * saying why.
 */
import { readFileSync } from 'node:fs';
import { findTool } from '../helpers/find-tool.ts';

export { findTool };

/** Why a test needing these tools (name -> Debian package) is skipped here, or undefined when it runs. */
export function toolsSkipReason(tools: Readonly<Record<string, string>>): string | undefined {
  if (process.env['VIGO_REQUIRE_DEPLOY_TOOLS'] === '1') return undefined;
  const missing = Object.entries(tools).filter(([name]) => findTool(name) === undefined);
  if (missing.length === 0) return undefined;
  const names = missing.map(([name, pkg]) => `${name} (Debian package ${pkg})`).join(', ');
  return `not installed: ${names}; VIGO_REQUIRE_DEPLOY_TOOLS=1 makes their absence a failure`;
}

/** Skipped unless running as root (dpkg --root, systemd-tmpfiles --root need it). */
export function rootSkipReason(): string | undefined {
  if (process.getuid?.() === 0 || process.env['VIGO_REQUIRE_DEPLOY_TOOLS'] === '1') return undefined;
  return 'needs root';
}

/** Whether this process holds CAP_SYS_ADMIN (bit 21 of CapEff): root in a default container does not. */
export function hasCapSysAdmin(): boolean {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  if (line === undefined) return false;
  return (BigInt(`0x${line.slice('CapEff:'.length).trim()}`) & (1n << 21n)) !== 0n;
}
