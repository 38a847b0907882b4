/**
 * packages {manager, count, installed: {name: version}}: every installed package, so templates and
 * when: conditions can ask for any of them. The first package database found wins: dpkg, rpm, apk,
 * pacman; a host with none reports manager "none".
 */
import { join } from 'node:path';
import type { CommandResult } from '../executors/types.ts';
import { readTextOrNull } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const timeoutMs = 20_000;
const commandEnv = { LC_ALL: 'C' };

type Installed = Record<string, string>;

/** Collects name → versions; a Map, because package names are data and "constructor" is a fine name. */
class InstalledSet {
  private readonly versions = new Map<string, string[]>();
  add(name: string, version: string): void {
    const known = this.versions.get(name);
    if (known === undefined) this.versions.set(name, [version]);
    else if (!known.includes(version)) known.push(version);
  }
  /** The same name twice (rpm multilib, several kernels) keeps every version, sorted, comma-separated. */
  toRecord(): Installed {
    return Object.fromEntries([...this.versions].map(([name, v]) => [name, v.sort().join(', ')]));
  }
}

/** `dpkg-query -W -f '${db:Status-Abbrev}\t${binary:Package}\t${Version}\n'`: only installed ones ("ii", "hi"). */
export function parseDpkg(text: string): Installed {
  const installed = new InstalledSet();
  for (const line of text.split('\n')) {
    const [status, name, version] = line.split('\t');
    if (status?.[1] !== 'i' || !name || version === undefined) continue;
    installed.add(name, version);
  }
  return installed.toRecord();
}

/** `name\tversion` lines (rpm with our query format) or `name version` lines (pacman -Q). */
export function parseNameVersion(text: string, separator: RegExp): Installed {
  const installed = new InstalledSet();
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split(separator);
    // gpg-pubkey entries are imported signing keys, not software.
    if (!name || version === undefined || name === 'gpg-pubkey') continue;
    installed.add(name, version);
  }
  return installed.toRecord();
}

/** /lib/apk/db/installed: blank-line separated records with `P:name` and `V:version`. */
export function parseApkDb(text: string): Installed {
  const installed = new InstalledSet();
  for (const record of text.split(/\n\s*\n/)) {
    const name = /^P:(.+)$/m.exec(record)?.[1]?.trim();
    const version = /^V:(.+)$/m.exec(record)?.[1]?.trim();
    if (name && version) installed.add(name, version);
  }
  return installed.toRecord();
}

/** The command's stdout, null when the program does not exist here, an error for any other failure. */
async function query(env: TraitEnv, file: string, args: string[]): Promise<string | null> {
  const result: CommandResult = await env.run(file, args, { timeoutMs, env: commandEnv });
  if (result.exitCode === 127) return null;
  if (result.timedOut) throw new Error(`${file} did not answer within ${timeoutMs} ms`);
  if (result.exitCode !== 0)
    throw new Error(`${file} exited with ${result.exitCode}: ${result.stderr.trim().slice(0, 500)}`);
  return result.stdout;
}

async function findInstalled(env: TraitEnv): Promise<{ manager: string; installed: Installed }> {
  const dpkg = await query(env, 'dpkg-query', [
    '-W',
    '-f',
    '${db:Status-Abbrev}\t${binary:Package}\t${Version}\n',
  ]);
  if (dpkg !== null) return { manager: 'dpkg', installed: parseDpkg(dpkg) };
  const rpmFormat = '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n';
  const rpm = await query(env, 'rpm', ['-qa', '--qf', rpmFormat]);
  if (rpm !== null) return { manager: 'rpm', installed: parseNameVersion(rpm, /\t/) };
  const apk = await readTextOrNull(join(env.rootDir, 'lib/apk/db/installed'));
  if (apk !== null) return { manager: 'apk', installed: parseApkDb(apk) };
  const pacman = await query(env, 'pacman', ['-Q']);
  if (pacman !== null) return { manager: 'pacman', installed: parseNameVersion(pacman, / +/) };
  return { manager: 'none', installed: {} };
}

export const packagesCollector: TraitCollector = {
  name: 'packages',
  volatile: false,
  timeoutMs: timeoutMs + 1000,
  async collect(env) {
    const { manager, installed } = await findInstalled(env);
    return { packages: { manager, count: Object.keys(installed).length, installed } };
  },
};
