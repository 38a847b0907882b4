import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/index.ts';
import { isVigoError } from '../core/index.ts';
import { parseIntegrationTargets } from './config.ts';

const hook = {
  name: 'ops',
  type: 'webhook',
  url: 'https://hooks.example.net/vigo',
  secret: 'secret:hooks/ops',
};

function problems(raw: unknown): string[] {
  return [...parseIntegrationTargets(raw, '/etc/vigo').problems];
}

function refused(raw: unknown, pattern: RegExp): void {
  const found = problems(raw);
  assert.ok(
    found.some((p) => pattern.test(p)),
    `expected a problem matching ${String(pattern)}, got ${JSON.stringify(found)}`,
  );
  assert.deepEqual(parseIntegrationTargets(raw, '/etc/vigo').targets, [], 'nothing is half-applied');
}

describe('integrations: parsing', () => {
  it('reads every type with its defaults', () => {
    const { targets, problems: found } = parseIntegrationTargets(
      [
        hook,
        {
          name: 'mail',
          type: 'email',
          host: 'smtp.example.net',
          from: 'v@example.net',
          to: ['o@example.net'],
        },
        { name: 'sys', type: 'syslog', host: '10.0.0.5', ca_file: 'ca.pem' },
        { name: 'hec', type: 'splunk_hec', url: 'https://splunk:8088', token: 'secret:siem/hec' },
        { name: 'loki', type: 'loki', url: 'http://loki:3100', token: 'secret:siem/loki' },
        { name: 'es', type: 'elastic', url: 'https://es:9200', username: 'vigo', password: 'secret:siem/es' },
      ],
      '/etc/vigo',
    );
    assert.deepEqual(found, []);
    assert.equal(targets.length, 6);
    const [webhook, mail, sys, hec, loki, es] = targets;
    assert.equal(webhook?.maxAttempts, 8);
    assert.deepEqual(webhook?.events, ['*']);
    assert.equal(webhook?.minSeverity, 'info');
    assert.equal(webhook?.batchSize, 1);
    assert.equal(mail?.type === 'email' && mail.port, 587);
    assert.equal(mail?.type === 'email' && mail.requireTls, true);
    assert.equal(mail?.type === 'email' && mail.digestWindowMs, 60_000);
    assert.equal(sys?.type === 'syslog' && sys.caFile, '/etc/vigo/ca.pem');
    assert.equal(sys?.type === 'syslog' && sys.transport, 'tls');
    assert.equal(sys?.type === 'syslog' && sys.port, 6514);
    assert.deepEqual(hec?.type === 'splunk_hec' && hec.token, { secretPath: 'siem/hec' });
    assert.deepEqual(loki?.type === 'loki' && loki.auth, {
      kind: 'bearer',
      token: { secretPath: 'siem/loki' },
    });
    assert.deepEqual(es?.type === 'elastic' && es.auth, {
      kind: 'basic',
      username: 'vigo',
      password: { secretPath: 'siem/es' },
    });
  });
});

describe('integrations: refusals', () => {
  it('an unknown type, with the nearest', () =>
    refused([{ ...hook, type: 'webhok' }], /\.type: unknown type "webhok" \(did you mean "webhook"\?\)/));
  it('an unknown key, with the nearest', () =>
    refused(
      [{ ...hook, urll: 'x' }],
      /^integrations\[0\] \("ops"\)\.urll: unknown key for a webhook target/,
    ));
  it('a key of another type', () =>
    refused([{ ...hook, digest_window: '1m' }], /\.digest_window: unknown key for a webhook target/));
  it('a URL that is not http(s)', () =>
    refused([{ ...hook, url: 'ftp://x.example/' }], /\.url: expected an http:\/\/ or https:\/\/ URL/));
  it('a URL that does not parse', () =>
    refused([{ ...hook, url: 'not a url' }], /\.url: expected an http:\/\/ or https:\/\/ URL/));
  it('credentials inside a URL', () =>
    refused([{ ...hook, url: 'https://u:p@x.example/' }], /\.url: credentials in the URL are refused/));
  it('a duplicate name', () =>
    refused([hook, { ...hook }], /^integrations\[1\] \("ops"\)\.name: duplicate target name "ops"/));
  it('a bad name', () => refused([{ ...hook, name: 'Ops Team' }], /\.name: expected lower-case letters/));
  it('a plaintext webhook secret', () =>
    refused([{ ...hook, secret: 'hunter2' }], /\.secret: plaintext credentials are refused/));
  it('a plaintext SMTP password', () =>
    refused(
      [{ name: 'm', type: 'email', host: 'h', from: 'a@b.c', to: ['d@e.f'], username: 'u', password: 'pw' }],
      /\.password: plaintext credentials are refused/,
    ));
  it('a plaintext HEC token', () =>
    refused(
      [{ name: 'h', type: 'splunk_hec', url: 'https://s', token: 'abc' }],
      /\.token: plaintext credentials are refused/,
    ));
  it('a plaintext Elastic API key', () =>
    refused(
      [{ name: 'e', type: 'elastic', url: 'https://s', api_key: 'abc' }],
      /\.api_key: plaintext credentials are refused/,
    ));
  it('an invalid secret path', () =>
    refused([{ ...hook, secret: 'secret:../x' }], /\.secret: the secret path "\.\.\/x" is invalid/));
  it('a missing required key', () =>
    refused([{ name: 'w', type: 'webhook', url: 'https://x' }], /\.secret: is required/));
  it('an event pattern that matches nothing', () =>
    refused([{ ...hook, events: ['envoy.nope'] }], /\.events: "envoy\.nope": it matches no event type/));
  it('an unknown severity', () =>
    refused([{ ...hook, min_severity: 'high' }], /\.min_severity: expected one of info, warning, critical/));
  it('out-of-range numbers and bad durations', () => {
    refused([{ ...hook, max_attempts: 0 }], /\.max_attempts: expected a whole number from 1 to 100/);
    refused([{ ...hook, timeout: 'soon' }], /\.timeout: expected a duration/);
    refused(
      [{ ...hook, backoff_initial: '1h', backoff_max: '40ms' }],
      /\.backoff_max: must not be shorter than backoff_initial/,
    );
  });
  it('two kinds of credential at once', () =>
    refused(
      [{ name: 'l', type: 'loki', url: 'https://l', token: 'secret:a', username: 'u', password: 'secret:b' }],
      /give one kind of credential/,
    ));
  it('a bad e-mail address', () =>
    refused(
      [{ name: 'm', type: 'email', host: 'h', from: 'nobody', to: ['d@e.f'] }],
      /\.from: expected an e-mail address/,
    ));
  it('not a list, an item that is not a mapping, too many targets', () => {
    assert.deepEqual(problems({ name: 'x' }), ['expected a list of targets']);
    refused(['x'], /^integrations\[0\]: expected a mapping/);
    refused(
      Array.from({ length: 33 }, (_, i) => ({ ...hook, name: `t${i}` })),
      /at most 32 targets/,
    );
  });
  it('reports every problem of every target at once', () => {
    const found = problems([
      { ...hook, secret: 'plain' },
      { ...hook, name: 'two', url: 'nope' },
    ]);
    assert.equal(found.length, 2);
  });
});

describe('integrations in server.yaml', () => {
  it('a refusal is a config problem at the key, with file, line and column', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'server.yaml');
    fs.writeFileSync(
      file,
      'log:\n  level: info\nintegrations:\n  - name: ops\n    type: webhook\n    url: https://x.example/\n    secret: hunter2\n',
    );
    assert.throws(
      () => loadConfig({ argv: ['--config', file], env: {}, cwd: dir }),
      (err) =>
        isVigoError(err) &&
        err.code === 'config.wrong_type' &&
        err.message.startsWith(
          `${file}:4:3: integrations: [0] ("ops").secret: plaintext credentials are refused`,
        ),
    );
  });

  it('VIGO_INTEGRATIONS holds the list as JSON; invalid JSON is refused', () => {
    const loaded = loadConfig({ argv: [], env: { VIGO_INTEGRATIONS: JSON.stringify([hook]) }, cwd: '/tmp' });
    assert.equal(loaded.config.integrations[0]?.name, 'ops');
    assert.throws(
      () => loadConfig({ argv: [], env: { VIGO_INTEGRATIONS: '[{' }, cwd: '/tmp' }),
      (err) => isVigoError(err) && /VIGO_INTEGRATIONS: .*it is not valid JSON/.test(err.message),
    );
  });
});
