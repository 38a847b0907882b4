/**
 * `firewall`: one inbound rule (port, protocol, optional source, allow/deny/reject) in the agent's own
 * nftables table, `inet vigo`, chain `input` — or, with `policy:` and no port, that chain's default
 * policy. Other tables are never touched.
 *
 * The table and chain are created on first use with two base rules (established/related traffic and
 * loopback accepted) so that `policy: drop` does not cut the host off. Each managed rule carries a
 * comment `vigo:<proto>:<port>:<source>:<action>[ <comment>]`: the part up to the port and source
 * identifies the rule, the whole comment is its desired form, so a changed action or comment replaces
 * the rule in one atomic `nft -f` transaction. The result is read back with `nft -j list`.
 *
 * ufw and firewalld keep their own nftables/iptables state and would fight these rules: when either is
 * active the resource fails saying so, as it does on a host with iptables but no nft.
 */
import net from 'node:net';
import { findExecutable } from './exec.ts';
import { fail, guardApply, optionalScalar, optionalString, result, stateParam } from './fs-util.ts';
import type { Executor, ExecutorContext } from './types.ts';
import { runChecked } from './unix-util.ts';

export interface FirewallExecutorOptions {
  /** PATH searched for nft, ufw, firewall-cmd and iptables (default: the agent's PATH). */
  readonly pathEnv?: string;
}

const table = 'inet vigo';
const actions: Readonly<Record<string, string>> = { allow: 'accept', deny: 'drop', reject: 'reject' };

interface Rule {
  readonly handle: number;
  readonly comment: string;
}

interface Listing {
  readonly exists: boolean;
  readonly policy: string | undefined;
  readonly rules: readonly Rule[];
}

function parsePort(raw: string | undefined): string {
  if (raw === undefined || raw === '') fail('port is required for a rule (or set policy: for the chain)');
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(raw);
  const lo = Number(m?.[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (!m || lo < 1 || hi > 65535 || hi < lo)
    fail(`port "${raw}" must be 1-65535 or a range such as 8000-8100`);
  return raw;
}

function parseSource(raw: string | undefined): { match: string; key: string } {
  if (raw === undefined || raw === '' || raw === 'any') return { match: '', key: 'any' };
  const [addr, len, extra] = raw.split('/');
  const family = net.isIP(addr ?? '');
  const max = family === 6 ? 128 : 32;
  if (
    family === 0 ||
    extra !== undefined ||
    (len !== undefined && !(/^\d{1,3}$/.test(len) && Number(len) <= max))
  ) {
    fail(`source "${raw}" must be an IP address or CIDR block such as 10.0.0.0/8`);
  }
  return { match: `${family === 6 ? 'ip6' : 'ip'} saddr ${raw} `, key: raw };
}

async function list(ctx: ExecutorContext, nft: string): Promise<Listing> {
  const r = await ctx.run(nft, ['-j', 'list', 'chain', 'inet', 'vigo', 'input'], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    if (/No such file or directory|does not exist/i.test(r.stderr))
      return { exists: false, policy: undefined, rules: [] };
    fail(
      `firewall: nft -j list chain inet vigo input failed (exit ${r.exitCode ?? 'killed'}): ${r.stderr.trim().slice(0, 300)}`,
    );
  }
  let policy: string | undefined;
  const rules: Rule[] = [];
  const doc = JSON.parse(r.stdout) as { nftables?: Record<string, Record<string, unknown>>[] };
  for (const item of doc.nftables ?? []) {
    if (item.chain && typeof item.chain.policy === 'string') policy = item.chain.policy;
    const rule = item.rule;
    if (rule && typeof rule.handle === 'number') {
      rules.push({ handle: rule.handle, comment: typeof rule.comment === 'string' ? rule.comment : '' });
    }
  }
  return { exists: true, policy, rules };
}

const setupScript = [
  `add table ${table}`,
  `add chain ${table} input { type filter hook input priority 0 ; policy accept ; }`,
  `add rule ${table} input ct state established,related accept comment "vigo:base:established"`,
  `add rule ${table} input iif "lo" accept comment "vigo:base:loopback"`,
];

async function detectNft(ctx: ExecutorContext, pathEnv: string | undefined): Promise<string> {
  const ufw = findExecutable('ufw', pathEnv);
  if (ufw !== undefined) {
    const r = await ctx.run(ufw, ['status'], { timeoutMs: 30_000 });
    if (/Status: active/.test(r.stdout))
      fail(
        'firewall: ufw is active on this host; manage it with ufw or disable it (this type writes nftables rules)',
      );
  }
  const firewalld = findExecutable('firewall-cmd', pathEnv);
  if (firewalld !== undefined) {
    const r = await ctx.run(firewalld, ['--state'], { timeoutMs: 30_000 });
    if (r.stdout.trim() === 'running')
      fail(
        'firewall: firewalld is running on this host; manage it with firewalld or stop it (this type writes nftables rules)',
      );
  }
  const nft = findExecutable('nft', pathEnv);
  if (nft !== undefined) return nft;
  if (findExecutable('iptables', pathEnv) !== undefined)
    fail('firewall: only iptables is installed; install nftables (the nft command) to manage rules');
  fail('firewall: nft is not installed (install the nftables package)');
}

async function transact(ctx: ExecutorContext, nft: string, lines: readonly string[]): Promise<void> {
  await runChecked(ctx, 'firewall', nft, ['-f', '-'], { input: `${lines.join('\n')}\n` });
}

export function createFirewallExecutor(options: FirewallExecutorOptions = {}): Executor {
  return {
    type: 'firewall',
    apply: (params, ctx) =>
      guardApply(async () => {
        const provider = optionalString(params, 'provider');
        if (provider !== undefined && provider !== 'nftables')
          fail(`firewall: provider ${provider} is not supported; use nftables`);
        const policy = optionalString(params, 'policy');
        if (policy !== undefined && policy !== 'accept' && policy !== 'drop')
          fail('policy must be accept or drop');
        const port = optionalScalar(params, 'port');
        if (policy !== undefined && port !== undefined)
          fail('set port (a rule) or policy (the chain), not both');
        if (policy !== undefined) {
          const nft = await detectNft(ctx, options.pathEnv);
          const before = await list(ctx, nft);
          const setup = before.exists ? [] : setupScript;
          const now = before.policy ?? 'accept';
          if (before.exists && now === policy) return result('none', `inet vigo input policy is ${policy}`);
          if (ctx.dryRun) return result('updated', `would set inet vigo input policy ${now} -> ${policy}`);
          await transact(ctx, nft, [
            ...setup,
            `add chain ${table} input { type filter hook input priority 0 ; policy ${policy} ; }`,
          ]);
          const after = await list(ctx, nft);
          if (after.policy !== policy)
            fail(`firewall: after setting it the input policy is ${after.policy ?? 'unknown'}`);
          return result('updated', `set inet vigo input policy ${now} -> ${policy}`);
        }

        const proto = optionalString(params, 'proto') ?? 'tcp';
        if (proto !== 'tcp' && proto !== 'udp') fail(`proto must be tcp or udp, got "${proto}"`);
        const portText = parsePort(port);
        const source = parseSource(optionalString(params, 'source'));
        const action = optionalString(params, 'action') ?? 'allow';
        const verdict = actions[action];
        if (verdict === undefined) fail(`action must be allow, deny or reject, got "${action}"`);
        const note = optionalString(params, 'comment') ?? '';
        if (note.length > 64 || /["\\\n\r]/.test(note))
          fail('comment must be at most 64 characters without quotes, backslashes or newlines');
        const id = `vigo:${proto}:${portText}:${source.key}:`;
        const comment = `${id}${action}${note ? ` ${note}` : ''}`;
        const what = `${action} ${proto}/${portText} from ${source.key}`;
        const state = stateParam(params);
        const nft = await detectNft(ctx, options.pathEnv);
        const before = await list(ctx, nft);
        const setup = before.exists ? [] : setupScript;
        const mine = before.rules.filter((r) => r.comment.startsWith(id));
        const deletes = mine.map((r) => `delete rule ${table} input handle ${r.handle}`);

        if (state === 'absent') {
          if (mine.length === 0) return result('none', `no rule for ${proto}/${portText} from ${source.key}`);
          if (ctx.dryRun)
            return result('deleted', `would remove the rule for ${proto}/${portText} from ${source.key}`);
          await transact(ctx, nft, deletes);
          if ((await list(ctx, nft)).rules.some((r) => r.comment.startsWith(id)))
            fail(`firewall: the rule for ${proto}/${portText} is still there after removing it`);
          return result('deleted', `removed the rule for ${proto}/${portText} from ${source.key}`);
        }
        if (mine.length === 1 && mine[0]?.comment === comment)
          return result('none', `rule ${what} is in place`);
        const outcome = mine.length === 0 ? 'created' : 'updated';
        const verb = mine.length === 0 ? 'add' : 'replace';
        if (ctx.dryRun) return result(outcome, `would ${verb} rule ${what}`);
        await transact(ctx, nft, [
          ...setup,
          ...deletes,
          `add rule ${table} input ${source.match}${proto} dport ${portText} ${verdict} comment "${comment}"`,
        ]);
        const after = await list(ctx, nft);
        if (after.rules.filter((r) => r.comment === comment).length !== 1)
          fail(`firewall: rule ${what} is not in place after adding it`);
        return result(outcome, `${verb === 'add' ? 'added' : 'replaced'} rule ${what}`);
      }),
  };
}

export const firewallExecutor: Executor = createFirewallExecutor();
