/** Test helpers: fixture roots under testdata/ and a command runner that answers from fixture files. */
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner } from '../executors/types.ts';
import { readTextOrNull } from './read.ts';
import type { TraitEnv } from './types.ts';

export const testdataDir = join(import.meta.dirname, 'testdata');

/**
 * Stands in for dpkg-query, rpm, systemctl and hostname: `<dir>/commands/<program>` is the program's
 * output; a program without a file does not exist on the fixture host (exit 127).
 */
export function fixtureRunner(dir: string): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push([file, ...args].join(' '));
    const stdout = await readTextOrNull(join(dir, 'commands', file));
    if (stdout === null)
      return { exitCode: 127, stdout: '', stderr: `cannot start ${file}`, timedOut: false };
    return { exitCode: 0, stdout, stderr: '', timedOut: false };
  };
  return { run, calls };
}

export function fixtureEnv(
  dir: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = {},
): TraitEnv & { calls: string[] } {
  const { run, calls } = fixtureRunner(dir);
  return {
    rootDir: dir,
    procRoot: join(dir, 'proc'),
    sysRoot: join(dir, 'sys'),
    etcRoot: join(dir, 'etc'),
    runRoot: join(dir, 'run'),
    run,
    networkInterfaces: () => interfaces,
    calls,
  };
}

export function ipv4(address: string, prefix: number, mac: string): NetworkInterfaceInfo {
  return { address, netmask: '', family: 'IPv4', mac, internal: false, cidr: `${address}/${prefix}` };
}

export function ipv6(address: string, prefix: number, mac: string): NetworkInterfaceInfo {
  return {
    address,
    netmask: '',
    family: 'IPv6',
    mac,
    internal: false,
    cidr: `${address}/${prefix}`,
    scopeid: 0,
  };
}
