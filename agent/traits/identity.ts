/**
 * hostname and fqdn. The fully qualified name is looked up the way `hostname -f` does, but /etc/hosts
 * is read first so a host with a broken resolver still reports at once; the command only runs when
 * the hosts file does not know the name, and a host without a domain reports its short name.
 */
import { join } from 'node:path';
import { readTextOrNull, readTextRequired } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const fqdnCommandTimeoutMs = 3000;

/** The canonical name (first name on the line) of the hosts entry that lists `hostname`, if it has a dot. */
export function fqdnFromHosts(hostsText: string, hostname: string): string | null {
  for (const raw of hostsText.split('\n')) {
    const names = raw.replace(/#.*/, '').trim().split(/\s+/).slice(1);
    if (!names.includes(hostname)) continue;
    const canonical = names[0]!;
    if (canonical.includes('.') && canonical.startsWith(`${hostname}.`)) return canonical;
  }
  return null;
}

async function lookupFqdn(env: TraitEnv, hostname: string): Promise<string> {
  if (hostname.includes('.')) return hostname;
  const hosts = await readTextOrNull(join(env.etcRoot, 'hosts'));
  const fromHosts = hosts === null ? null : fqdnFromHosts(hosts, hostname);
  if (fromHosts !== null) return fromHosts;
  const result = await env.run('hostname', ['-f'], { timeoutMs: fqdnCommandTimeoutMs });
  const answer = result.stdout.trim();
  if (result.exitCode === 0 && /^[A-Za-z0-9.-]+$/.test(answer) && answer.startsWith(hostname)) return answer;
  return hostname;
}

export const identityCollector: TraitCollector = {
  name: 'identity',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const hostname = (
      await readTextRequired(join(env.procRoot, 'sys/kernel/hostname'), 'the hostname')
    ).trim();
    if (hostname === '') throw new Error('the kernel reports an empty hostname');
    return { hostname, fqdn: await lookupFqdn(env, hostname) };
  },
};
