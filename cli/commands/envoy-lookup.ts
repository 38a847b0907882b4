/** Naming an envoy on the command line: by its id, or by its exact hostname where that is unambiguous. */
import type { ConvergenceStatus, DriftLevel, Reachability } from '../../server/convergence/index.ts';
import type { CommandContext } from '../command.ts';
import { CliError, cliExitCodes, usageError } from '../errors.ts';

export interface EnvoyView {
  id: string;
  hostname: string;
  status: 'active' | 'revoked' | 'stale';
  enrolledAt: string;
  lastSeenAt: string | null;
  policyVersion: number;
  stateFingerprint: string | null;
  traitsHash: string | null;
  agentVersion: string | null;
  intervalMs: number | null;
  forcePush: boolean;
  convergence: ConvergenceStatus;
  drift: DriftLevel;
  reachability: Reachability;
  convergenceSince: string | null;
  lastRunId: string | null;
}

export interface EnvoyPage {
  items: EnvoyView[];
  total: number;
  nextCursor: string | null;
}

const envoysPath = '/api/v1/envoys';
/** More envoys than this with one hostname is not a real fleet; the API's page size bounds it too. */
const maxSameHostname = 1000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id as given; a hostname looked up exactly (case-insensitive, as hostnames are). */
export async function resolveEnvoyName(
  ctx: CommandContext,
  name: string,
): Promise<{ id: string; hostname?: string }> {
  if (uuidPattern.test(name)) return { id: name.toLowerCase() };
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(name)) {
    throw usageError(`${JSON.stringify(name)} is neither an envoy id nor a hostname`);
  }
  const page = await ctx.client.call<EnvoyPage>(
    'GET',
    `${envoysPath}?${new URLSearchParams({ hostname: name, limit: String(maxSameHostname) }).toString()}`,
  );
  const found = page.items.filter((e) => e.hostname.toLowerCase() === name.toLowerCase());
  const [first] = found;
  if (first === undefined) {
    throw new CliError(
      cliExitCodes.error,
      'fleet.envoy_not_found',
      `no envoy has the hostname ${name}; "vigocli envoys list --hostname '${name}*'" lists similar ones`,
    );
  }
  if (found.length > 1) {
    const which = found.map((e) => `${e.id} (${e.status})`).join(', ');
    throw new CliError(
      cliExitCodes.error,
      'cli.ambiguous',
      `${found.length} envoys have the hostname ${name}: ${which}; name one by its id`,
    );
  }
  return { id: first.id, hostname: first.hostname };
}
