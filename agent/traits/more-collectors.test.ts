import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { generateEcKeyPair } from '../../server/pki/keys.ts';
import { ecSigningAlgorithm, x509 } from '../../server/pki/x509-setup.ts';
import { hashableTraits } from './canonical-json.ts';
import { certExpiryCollector } from './cert-expiry.ts';
import { formatOffset } from './clock.ts';
import { cloudCollector, metadataUrlAllowed } from './cloud.ts';
import { chassisName } from './dmi.ts';
import { dockerCollector, parseVersionJson } from './docker.ts';
import { nvidiaVersion } from './gpu.ts';
import { splitLocale } from './locale.ts';
import { decodeProcAddress, parseProcNet, portsCollector } from './ports.ts';
import { readTextBounded } from './read.ts';
import { parseAptSimulation, parseUpdateinfo, securityScanCollector } from './security-scan.ts';
import { fixtureEnv } from './testing.ts';
import type { TraitEnv, TraitSettings } from './types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function host(
  files: Record<string, string | Buffer>,
  settings?: TraitSettings,
): TraitEnv & { calls: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'vigo-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return { ...fixtureEnv(root), ...(settings === undefined ? {} : { settings }) };
}

const dayMs = 86_400_000;

async function certificate(cn: string, notBefore: Date, notAfter: Date): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a0b0c',
    name: [{ CN: [cn] }],
    notBefore,
    notAfter,
    keys: await generateEcKeyPair(),
    signingAlgorithm: ecSigningAlgorithm,
  });
}

describe('cert_expiry', () => {
  it('reports each configured certificate: PEM chain (leaf first), DER, expired, missing, not a certificate', async () => {
    const now = Date.now();
    const leaf = await certificate('web.example.com', new Date(now - dayMs), new Date(now + 10.5 * dayMs));
    const ca = await certificate('Example CA', new Date(now - dayMs), new Date(now + 900 * dayMs));
    const old = await certificate('old.example.com', new Date(now - 30 * dayMs), new Date(now - 2.5 * dayMs));
    const env = host(
      {
        'etc/ssl/web.pem': `${leaf.toString('pem')}\n${ca.toString('pem')}\n`,
        'etc/ssl/old.der': Buffer.from(old.rawData),
        'etc/ssl/junk.pem': 'not a certificate\n',
      },
      {
        certPaths: [
          '/etc/ssl/web.pem',
          '/etc/ssl/old.der',
          '/etc/ssl/none.pem',
          '/etc/ssl/junk.pem',
          'rel.pem',
        ],
        cloudMetadata: false,
      },
    );
    const traits = await certExpiryCollector.collect(env);
    const certs = (traits.cert_expiry as { certificates: Record<string, unknown>[] }).certificates;
    assert.deepEqual(
      certs.map((c) => [c.path, c.subject, c.expired, c.days_left, c.error === null]),
      [
        ['/etc/ssl/web.pem', 'CN=web.example.com', false, 10, true],
        ['/etc/ssl/old.der', 'CN=old.example.com', true, -3, true],
        ['/etc/ssl/none.pem', null, null, null, false],
        ['/etc/ssl/junk.pem', null, null, null, false],
        ['rel.pem', null, null, null, false],
      ],
    );
    assert.equal(certs[0]!.serial, '0a0b0c');
    assert.equal(certs[0]!.issuer, 'CN=web.example.com');
    assert.equal(certs[0]!.not_after, new Date(Math.floor((now + 10.5 * dayMs) / 1000) * 1000).toISOString());
    assert.equal(certs[2]!.error, 'no such file');
    assert.equal(certs[4]!.error, 'not an absolute path');
    // days_left changes daily: it is neither hashed nor sent.
    const sent = hashableTraits(traits) as { cert_expiry: { certificates: Record<string, unknown>[] } };
    assert.equal(sent.cert_expiry.certificates[0]!.days_left, undefined);
    assert.equal(sent.cert_expiry.certificates[0]!.expired, false);
  });

  it('refuses a file over 1 MiB without reading it, and lists nothing when none is configured', async () => {
    const env = host(
      { 'big.pem': Buffer.alloc(1024 * 1024 + 1) },
      { certPaths: ['/big.pem'], cloudMetadata: false },
    );
    const certs = (
      (await certExpiryCollector.collect(env)).cert_expiry as { certificates: { error: string }[] }
    ).certificates;
    assert.match(certs[0]!.error, /1048577 bytes; a certificate file is at most 1048576/);
    assert.deepEqual(await certExpiryCollector.collect(host({})), { cert_expiry: { certificates: [] } });
  });
});

describe('cloud', () => {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${String(req.headers['x-aws-ec2-metadata-token'] ?? '')}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('tok-1');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'tok-1') return res.writeHead(401).end();
    const answers: Record<string, string> = {
      '/latest/meta-data/instance-id': 'i-0123456789abcdef0',
      '/latest/meta-data/placement/region': 'eu-west-1',
      '/latest/meta-data/placement/availability-zone': 'eu-west-1b',
      '/latest/meta-data/instance-type': 'm7g.large',
    };
    const answer = answers[req.url ?? ''];
    return answer === undefined ? res.writeHead(404).end() : res.end(answer);
  });
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
  after(() => server.close());
  const ec2Dmi = {
    'sys/class/dmi/id/sys_vendor': 'Amazon EC2\n',
    'sys/class/dmi/id/product_name': 'm7g.large\n',
  };

  it('without cloud_metadata asks no one: DMI alone', async () => {
    const url = await listening;
    requests.length = 0;
    const traits = await cloudCollector.collect(
      host(ec2Dmi, { certPaths: [], cloudMetadata: false, cloudMetadataUrl: url }),
    );
    assert.deepEqual(traits.cloud, {
      provider: 'aws',
      instance_id: null,
      region: null,
      zone: null,
      instance_type: 'm7g.large',
      sources: ['dmi'],
    });
    assert.deepEqual(requests, []);
  });

  it('with cloud_metadata asks IMDSv2 with a session token', async () => {
    const url = await listening;
    requests.length = 0;
    const traits = await cloudCollector.collect(
      host(ec2Dmi, { certPaths: [], cloudMetadata: true, cloudMetadataUrl: url }),
    );
    assert.deepEqual(traits.cloud, {
      provider: 'aws',
      instance_id: 'i-0123456789abcdef0',
      region: 'eu-west-1',
      zone: 'eu-west-1b',
      instance_type: 'm7g.large',
      sources: ['dmi', 'metadata'],
    });
    assert.equal(requests[0], 'PUT /latest/api/token ');
    assert.ok(requests.slice(1).every((r) => r.endsWith(' tok-1')));
  });

  it('never asks a host that is not link-local, nor when no provider is known', async () => {
    for (const bad of [
      'http://example.com',
      'https://169.254.169.254',
      'http://u:p@169.254.169.254',
      'http://10.0.0.1',
    ])
      assert.equal(metadataUrlAllowed(bad), false, bad);
    assert.equal(metadataUrlAllowed('http://169.254.169.254'), true);
    await assert.rejects(
      cloudCollector.collect(
        host(ec2Dmi, { certPaths: [], cloudMetadata: true, cloudMetadataUrl: 'http://example.com' }),
      ),
      /not a link-local http:\/\/ address/,
    );
    requests.length = 0;
    const physical = host(
      { 'sys/class/dmi/id/sys_vendor': 'Dell Inc.\n' },
      { certPaths: [], cloudMetadata: true, cloudMetadataUrl: await listening },
    );
    assert.equal(((await cloudCollector.collect(physical)).cloud as { provider: unknown }).provider, null);
    assert.deepEqual(requests, []);
  });

  it('recognizes Azure and GCP firmware', async () => {
    const azure = host({ 'sys/class/dmi/id/chassis_asset_tag': '7783-7084-3265-9085-8269-3286-77\n' });
    assert.equal(((await cloudCollector.collect(azure)).cloud as { provider: unknown }).provider, 'azure');
    const gcp = host({ 'sys/class/dmi/id/product_name': 'Google Compute Engine\n' });
    assert.equal(((await cloudCollector.collect(gcp)).cloud as { provider: unknown }).provider, 'gcp');
  });
});

describe('ports', () => {
  it('decodes /proc/net addresses', () => {
    assert.equal(decodeProcAddress('0100007F'), '127.0.0.1');
    assert.equal(decodeProcAddress('00000000000000000000000001000000'), '::1');
    assert.equal(decodeProcAddress('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1');
    assert.equal(decodeProcAddress('B80D0120000000000000000001000000'), '2001:db8::1');
    assert.equal(decodeProcAddress('zz'), null);
  });

  it('skips malformed lines and duplicates; no socket table at all is an error', async () => {
    const header = '  sl  local_address rem_address   st\n';
    assert.deepEqual(
      parseProcNet(
        `${header}   0: 00000000:FFFFF 00000000:0000 0A\n   1: garbage\n   2: 00000000:0000 00000000:0000 0A\n`,
        'tcp',
      ),
      [],
    );
    const env = host({ 'proc/net/tcp': `${header}${'   0: 00000000:0016 00000000:0000 0A\n'.repeat(10)}` });
    assert.deepEqual((await portsCollector.collect(env)).ports, {
      tcp: [22],
      udp: [],
      listening: [{ proto: 'tcp', address: '0.0.0.0', port: 22 }],
      truncated: false,
    });
    await assert.rejects(portsCollector.collect(host({})), /cannot read the socket tables/);
  });
});

describe('security_scan and docker output', () => {
  it('apt: counts every upgrade, names the security ones once', () => {
    const text =
      'Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64]) []\n' +
      'Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian-Security:12/stable-security [i386])\n' +
      'Inst vim (2:9.0 Debian:12.5/stable [amd64])\n' +
      'Inst base-files [12.4] (12.4+deb12u5 Ubuntu:22.04/jammy-security [amd64])\n' +
      'Conf libc6 (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64])\n';
    assert.deepEqual(parseAptSimulation(text), { pending: 4, security: ['base-files', 'libc6'] });
  });

  it('dnf: package names from NEVRAs, epochs and dashes in names kept apart', () => {
    const text =
      'RHSA-2024:1 Important/Sec. python3-libs-3.9.18-1.el9_3.1.x86_64\n' +
      'RHSA-2024:2 Low/Sec.       openssl-1:3.0.7-25.el9_3.x86_64\n' +
      'FEDORA-2024-1 enhancement  foo-1-1.fc40.noarch\n';
    assert.deepEqual(parseUpdateinfo(text), { pending: null, security: ['openssl', 'python3-libs'] });
  });

  it('a failing or hung package manager marks the collector, naming the program', async () => {
    const env: TraitEnv = {
      ...host({}),
      run: async (file) =>
        file === 'apt-get'
          ? {
              exitCode: 100,
              stdout: '',
              stderr: 'E: The package lists or status file could not be parsed',
              timedOut: false,
            }
          : { exitCode: 127, stdout: '', stderr: '', timedOut: false },
    };
    await assert.rejects(securityScanCollector.collect(env), /apt-get exited with 100: E: The package lists/);
  });

  it('docker: a stopped daemon still reports the client; podman is its own engine', async () => {
    assert.deepEqual(parseVersionJson('{"Client":{"Version":"28.2.2"},"Server":null}\n'), {
      client: '28.2.2',
      server: null,
    });
    assert.equal(parseVersionJson('Cannot connect to the Docker daemon'), null);
    const answer = (file: string): { exitCode: number; stdout: string } =>
      file === 'podman'
        ? { exitCode: 0, stdout: '{"Client":{"Version":"4.9.3"}}\n' }
        : { exitCode: 127, stdout: '' };
    const env: TraitEnv = {
      ...host({}),
      run: async (file) => ({ ...answer(file), stderr: '', timedOut: false }),
    };
    assert.deepEqual(await dockerCollector.collect(env), {
      docker: {
        installed: true,
        engine: 'podman',
        client_version: '4.9.3',
        server_version: '4.9.3',
        daemon_running: true,
      },
    });
  });
});

describe('bounded reads', () => {
  it('reads up to the bound, across chunks, and says when the file was longer', async () => {
    const env = host({ small: 'x'.repeat(100), big: 'y'.repeat(200 * 1024) });
    assert.deepEqual(await readTextBounded(join(env.rootDir, 'small'), 100), {
      text: 'x'.repeat(100),
      truncated: false,
    });
    assert.deepEqual(await readTextBounded(join(env.rootDir, 'small'), 10), {
      text: 'x'.repeat(10),
      truncated: true,
    });
    const big = await readTextBounded(join(env.rootDir, 'big'), 150 * 1024);
    assert.equal(big?.text.length, 150 * 1024);
    assert.equal(big?.truncated, true);
    assert.equal((await readTextBounded(join(env.rootDir, 'big'), 300 * 1024))?.truncated, false);
    assert.equal(await readTextBounded(join(env.rootDir, 'absent'), 10), null);
  });
});

describe('small parsers', () => {
  it('chassis types, NVIDIA versions, locales and UTC offsets', () => {
    assert.equal(chassisName('23'), 'rack_mount_chassis');
    assert.equal(chassisName('99'), null);
    assert.equal(
      nvidiaVersion(
        'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 UTC 2023\n',
      ),
      '535.129.03',
    );
    assert.deepEqual(splitLocale('de_DE.UTF-8@euro'), { language: 'de_DE', encoding: 'UTF-8' });
    assert.deepEqual(splitLocale('C'), { language: 'C', encoding: null });
    assert.equal(formatOffset(330), '+05:30');
    assert.equal(formatOffset(-210), '-03:30');
    assert.equal(formatOffset(0), '+00:00');
  });
});
