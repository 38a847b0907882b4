import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findExecutable } from './exec.ts';
import { createFirewallExecutor } from './firewall.ts';
import { namespaceSkipReason, runInNamespace, unixSetup } from './unix-test-support.ts';

const module = path.join(import.meta.dirname, 'firewall.ts');
const nft = findExecutable('nft');
// CI installs nftables and sets VIGO_REQUIRE_NFTABLES=1: there a missing nft fails instead of skipping.
const required = process.env.VIGO_REQUIRE_NFTABLES === '1';
const skip =
  nft === undefined
    ? required
      ? false
      : 'nft is not installed (apt-get install nftables)'
    : namespaceSkipReason(['--net']);

describe('firewall executor', () => {
  it('manages real nftables rules and the chain policy inside a network namespace', { skip }, () => {
    assert.ok(nft !== undefined, 'VIGO_REQUIRE_NFTABLES=1 but nft is not installed');
    const https = { port: 443, proto: 'tcp', source: '10.0.0.0/8', action: 'allow', comment: 'https' };
    const run = runInNamespace(['--net'], {
      module,
      factory: 'createFirewallExecutor',
      steps: [
        { params: https, dryRun: true },
        { params: https },
        { params: https },
        { params: { ...https, action: 'deny' } },
        { params: { port: '8000-8100', proto: 'udp' } },
        { params: { port: 22, source: '2001:db8::/32', action: 'reject' } },
        { params: { policy: 'drop' } },
        { params: { policy: 'drop' } },
        { params: { ...https, state: 'absent' } },
        { params: { ...https, state: 'absent' } },
      ],
      after: [['nft', 'list', 'chain', 'inet', 'vigo', 'input']],
    });
    const outcomes = run.results.map((r) => r.outcome);
    assert.deepEqual(
      outcomes,
      ['created', 'created', 'none', 'updated', 'created', 'created', 'updated', 'none', 'deleted', 'none'],
      JSON.stringify(run.results, null, 1),
    );
    assert.equal(run.results[0]?.message, 'would add rule allow tcp/443 from 10.0.0.0/8');
    assert.equal(run.results[3]?.message, 'replaced rule deny tcp/443 from 10.0.0.0/8');
    const listing = run.after[0]?.stdout ?? '';
    assert.match(listing, /policy drop;/);
    assert.match(listing, /ct state established,related accept comment "vigo:base:established"/);
    assert.match(listing, /iif "lo" accept comment "vigo:base:loopback"/);
    assert.match(listing, /udp dport 8000-8100 accept comment "vigo:udp:8000-8100:any:allow"/);
    assert.match(
      listing,
      /ip6 saddr 2001:db8::\/32 tcp dport 22 reject.* comment "vigo:tcp:22:2001:db8::\/32:reject"/,
    );
    assert.doesNotMatch(listing, /dport 443/);
    const host = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
    assert.doesNotMatch(host.stdout, /inet vigo/, 'the host outside the namespace is untouched');
  });

  it('refuses to write rules where ufw or firewalld is active, and where only iptables exists', async (t) => {
    const s = unixSetup(t);
    const bin = s.at('/bin');
    fs.mkdirSync(bin);
    const tool = (name: string, out: string): void => {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho '${out}'\n`, { mode: 0o755 });
    };
    tool('nft', '');
    tool('ufw', 'Status: active');
    const ex = createFirewallExecutor({ pathEnv: bin });
    const ufw = await ex.apply({ port: 22 }, s.ctx());
    assert.match(ufw.message, /ufw is active on this host/);
    tool('ufw', 'Status: inactive');
    tool('firewall-cmd', 'running');
    const firewalld = await ex.apply({ port: 22 }, s.ctx());
    assert.match(firewalld.message, /firewalld is running on this host/);
    fs.rmSync(path.join(bin, 'firewall-cmd'));
    fs.rmSync(path.join(bin, 'nft'));
    tool('iptables', '');
    const onlyIptables = createFirewallExecutor({ pathEnv: bin });
    // The fallback sbin directories may hold a real nft; only a host without one reaches this message.
    if (findExecutable('nft', bin) === undefined) {
      assert.match((await onlyIptables.apply({ port: 22 }, s.ctx())).message, /only iptables is installed/);
    }
  });

  it('refuses rules that are not a port, protocol, address and action before running anything', async (t) => {
    const s = unixSetup(t);
    const ex = createFirewallExecutor({ pathEnv: s.at('/nobin') });
    for (const params of [
      { port: 0 },
      { port: 70000 },
      { port: '22; flush ruleset' },
      { port: '100-20' },
      { port: 22, proto: 'icmp' },
      { port: 22, source: '10.0.0.0/33' },
      { port: 22, source: 'example.com' },
      { port: 22, source: '10.0.0.1 accept' },
      { port: 22, action: 'masquerade' },
      { port: 22, comment: 'x" ; flush ruleset ; "' },
      { port: 22, policy: 'drop' },
      { policy: 'reject' },
      { port: 22, provider: 'pf' },
      {},
    ]) {
      const r = await ex.apply(params, s.ctx());
      assert.equal(r.outcome, 'failed', JSON.stringify(params));
      assert.doesNotMatch(r.message, /nft is not installed/, JSON.stringify(params));
    }
    assert.deepEqual(s.calls, []);
  });
});
