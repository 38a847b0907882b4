/**
 * The syslog and e-mail sinks against real receivers on loopback: a TLS syslog listener parsing RFC 5424
 * with octet counting, and an SMTP server (smtp-server) with STARTTLS and AUTH.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from './helpers/deadline.ts';
import { startSinks, testTls } from './helpers/integrations-harness.ts';
import { startSmtpReceiver, startSyslogReceiver } from './helpers/sink-receivers.ts';

const fast = { backoff_initial: '10ms', backoff_max: '50ms' };
const failedEnvoy = { envoyId: 'env-1', hostname: 'web-1', status: 'failed', runId: 'run-1' };

const rfc5424 =
  /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\d+) (\S+) \[vigo@32473 id="([^"]+)" type="([^"]+)" severity="(\w+)"(?: subject="([^"]*)")?\] \uFEFF(.*)$/s;

describe('syslog sink', () => {
  it('sends RFC 5424 messages with octet counting over TLS, verified against the CA file', async (t) => {
    const tls = await testTls(t);
    const receiver = await startSyslogReceiver(t, { key: tls.key, cert: tls.cert });
    const sinks = await startSinks(t, [
      {
        name: 'siem',
        type: 'syslog',
        host: '127.0.0.1',
        port: receiver.port,
        transport: 'tls',
        ca_file: tls.caFile,
        facility: 'local3',
        app_name: 'vigo-test',
        events: ['envoy.*', 'convergence.threshold'],
      },
    ]);
    const failed = sinks.bus.publish('envoy.failed', failedEnvoy, 'env-1');
    sinks.bus.publish('config.published', { version: 3 }); // not selected
    const threshold = sinks.bus.publish('convergence.threshold', { pct: 80 });
    await waitFor('2 messages', () => (receiver.messages.length === 2 ? true : undefined));
    const parsed = receiver.messages.map((m) => rfc5424.exec(m));
    const [a, b] = parsed;
    assert.ok(a !== null && a !== undefined && b !== null && b !== undefined, receiver.messages.join('\n'));
    assert.equal(Number(a[1]), 19 * 8 + 2, 'local3 and critical');
    assert.equal(a[2], failed.at);
    assert.equal(a[3], 'vigo-test');
    assert.equal(a[4], 'vigo-test');
    assert.equal(Number(a[5]), process.pid);
    assert.equal(a[6], 'envoy.failed');
    assert.deepEqual([a[7], a[8], a[9], a[10]], [failed.id, 'envoy.failed', 'critical', 'env-1']);
    assert.equal((JSON.parse(a[11] ?? '') as { data: { hostname: string } }).data.hostname, 'web-1');
    assert.equal(b[8], 'convergence.threshold');
    assert.equal(b[7], threshold.id);
    assert.equal(b[10], undefined, 'no subject, no subject parameter');
  });

  it('plain TCP works too, with the default facility daemon', async (t) => {
    const receiver = await startSyslogReceiver(t);
    const sinks = await startSinks(t, [
      { name: 'tcp', type: 'syslog', host: '127.0.0.1', port: receiver.port, transport: 'tcp' },
    ]);
    sinks.bus.publish('envoy.stale', { envoyId: 'env-1', hostname: 'web-1' });
    await waitFor('1 message', () => (receiver.messages.length === 1 ? true : undefined));
    assert.match(receiver.messages[0] ?? '', /^<28>1 /, 'daemon (3) × 8 + warning (4)');
  });
});

describe('e-mail sink', () => {
  it('sends over SMTP with STARTTLS and AUTH, and batches a burst of events into one digest', async (t) => {
    const tls = await testTls(t);
    const smtp = await startSmtpReceiver(t, {
      key: tls.key,
      cert: tls.cert,
      user: 'vigo',
      password: 'mail-pw',
    });
    const sinks = await startSinks(
      t,
      [
        {
          name: 'mail',
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          ca_file: tls.caFile,
          username: 'vigo',
          password: 'secret:mail/pw',
          from: 'vigo@example.net',
          to: ['oncall@example.net', 'ops@example.net'],
          digest_window: '500ms',
        },
      ],
      { 'mail/pw': 'mail-pw' },
    );
    for (let n = 1; n <= 5; n += 1)
      sinks.bus.publish('envoy.failed', { envoyId: `env-${n}`, hostname: `web-${n}`, status: 'failed' });
    await waitFor('delivered', () =>
      sinks.rows('mail').filter((r) => r.state === 'delivered').length === 5 ? true : undefined,
    );
    assert.equal(smtp.mails.length, 1, 'one digest for the burst');
    const [mail] = smtp.mails;
    assert.ok(mail?.secure, 'STARTTLS was used');
    assert.equal(mail?.user, 'vigo');
    assert.equal(mail?.from, 'vigo@example.net');
    assert.deepEqual(mail?.to, ['oncall@example.net', 'ops@example.net']);
    assert.match(mail?.raw ?? '', /^Subject: \[vigo\] 5 events \(5 critical\): envoy\.failed$/m);
    for (let n = 1; n <= 5; n += 1) assert.match(mail?.raw ?? '', new RegExp(`envoy\\.failed web-${n}`));
  });

  it('a refused login is retried (the password can be fixed in the vault), not dropped', async (t) => {
    const tls = await testTls(t);
    const smtp = await startSmtpReceiver(t, {
      key: tls.key,
      cert: tls.cert,
      user: 'vigo',
      password: 'right',
    });
    const sinks = await startSinks(
      t,
      [
        {
          name: 'mail',
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          ca_file: tls.caFile,
          username: 'vigo',
          password: 'secret:mail/pw',
          from: 'vigo@example.net',
          to: ['oncall@example.net'],
          digest_window: '0',
          max_attempts: 100,
          ...fast,
        },
      ],
      { 'mail/pw': 'wrong' },
    );
    sinks.bus.publish('convergence.threshold', { pct: 50 });
    await waitFor('a refused login', () => (smtp.refusedLogins.length > 0 ? true : undefined));
    assert.equal(sinks.rows('mail')[0]?.state, 'pending');
    sinks.vault.set('mail/pw', 'right');
    await waitFor('delivered', () => (sinks.rows('mail')[0]?.state === 'delivered' ? true : undefined));
    assert.match(smtp.mails[0]?.raw ?? '', /^Subject: \[vigo\] \[critical\] convergence\.threshold/m);
  });
});
