/**
 * GET /bootstrap and the agent artifact. Part one asks a real vigosrv for the script, the CA, the agent
 * and its checksum. Part two runs the served script for real (`curl -sSfk …/bootstrap | sh -s -- …`)
 * against the real bootstrap routes and TLS listener with a fixture agent that records how it was
 * called, and once with a checksum altered on the way. Part three runs it with the real agent, once
 * agent/main.ts exists.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BootstrapService, InstallCommand } from '../server/bootstrap/index.ts';
import {
  apiDialAddress,
  bootstrapDefaults,
  caFingerprintSha256,
  createBootstrapService,
} from '../server/bootstrap/index.ts';
import { silentLogger } from '../server/core/index.ts';
import { createHttpApp } from '../server/http/app.ts';
import { localAdminCredentialFor } from '../server/http/auth.ts';
import { startHttpsListener } from '../server/http/listener.ts';
import type { HttpsListener } from '../server/http/listener.ts';
import { bootstrapRoutes } from '../server/http/routes/bootstrap.ts';
import type { Pki } from '../server/pki/index.ts';
import { loadOrCreatePki } from '../server/pki/index.ts';
import { createEnrollToken } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from './helpers/server-process.ts';

interface Fetched {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  text: string;
}

function fetchBytes(url: string, ca: string, headers: Record<string, string> = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    // A forged Host header must not change which name the certificate is checked against.
    const req = request(url, { ca, agent: false, headers, servername: 'localhost' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, text: bytes.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (part two's server lives in this process). */
function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
) {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: 'pipe', cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** The documented one-liner, with --prefix so nothing outside the temp dir is touched. */
function pipeToSh(url: string, env: Record<string, string>): Promise<RunResult> {
  const line =
    'curl -sSfk "$BOOTSTRAP_URL" | sh -s -- --token "$TOKEN" --hostname "$HOST" --prefix "$PREFIX" --no-start';
  return run('/bin/sh', ['-c', line], { env: { ...process.env, BOOTSTRAP_URL: url, ...env } });
}

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
const shells = ['/bin/sh', '/usr/bin/dash'].filter((shell) => existsSync(shell));
const agentMain = bootstrapDefaults.agentEntry;
const unitFileText = readFileSync(join(repoRoot, 'deploy', 'vigo-envoy.service'), 'utf8');

describe('GET /bootstrap against vigosrv', () => {
  let server: ReadyServer;
  const temp = makeTempDir('vigo-bootstrap-');

  before(async () => {
    server = await startServer({ dataDir: temp.path, env: { VIGO_HOSTNAME: '127.0.0.1' } });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('serves the script as text/x-shellscript with the advertised address in it', async () => {
    const reply = await fetchBytes(`${server.apiUrl}/bootstrap`, server.ca);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/x-shellscript; charset=utf-8');
    assert.match(reply.text, new RegExp(`^vigo_server='127\\.0\\.0\\.1:${server.apiPort}'$`, 'm'));
    assert.ok(reply.text.includes(unitFileText.trimEnd()), 'the unit file is embedded');
    for (const shell of shells) {
      const parsed = await run(shell, ['-n'], { input: reply.text });
      assert.equal(parsed.status, 0, `${shell} -n: ${parsed.stderr}`);
    }
  });

  it('ignores ?server= and the Host header: the script names only the configured address', async () => {
    const plain = await fetchBytes(`${server.apiUrl}/bootstrap`, server.ca);
    const steered = await fetchBytes(
      `${server.apiUrl}/bootstrap?server=evil.example:443&os=linux`,
      server.ca,
      {
        host: 'evil.example:443',
        'x-forwarded-host': 'evil.example',
      },
    );
    assert.equal(steered.status, 200);
    assert.equal(steered.text, plain.text);
    assert.ok(!steered.text.includes('evil'));
  });

  it('answers unknown arguments with usage and exit 2', async () => {
    const script = (await fetchBytes(`${server.apiUrl}/bootstrap`, server.ca)).text;
    const result = await run('/bin/sh', ['-s', '--', '--token', 'T', '--frobnicate'], { input: script });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /vigo-bootstrap: unknown option --frobnicate/);
  });

  it('serves the CA certificate the server uses', async () => {
    const reply = await fetchBytes(`${server.apiUrl}/bootstrap/ca.crt`, server.ca);
    assert.equal(reply.status, 200);
    assert.equal(reply.text, server.ca);
    assert.equal(reply.text, readFileSync(join(temp.path, 'tls', 'ca.crt'), 'utf8'));
  });

  it('serves the agent with a checksum that matches, or 503 bootstrap.agent_unavailable without sources', async () => {
    const artifact = await fetchBytes(`${server.apiUrl}/bootstrap/vigo.mjs`, server.ca);
    const checksum = await fetchBytes(`${server.apiUrl}/bootstrap/vigo.mjs.sha256`, server.ca);
    if (!existsSync(agentMain)) {
      for (const reply of [artifact, checksum]) {
        assert.equal(reply.status, 503, reply.text);
        assert.equal((JSON.parse(reply.text) as { code: string }).code, 'bootstrap.agent_unavailable');
        assert.ok(Number(reply.headers['retry-after']) > 0);
      }
      return;
    }
    assert.equal(artifact.status, 200, artifact.text.slice(0, 500));
    const digest = sha256(artifact.bytes);
    assert.equal(artifact.headers['x-checksum-sha256'], digest);
    assert.equal(checksum.status, 200);
    assert.equal(checksum.text, `${digest}  vigo.mjs\n`);
    const cached = readdirSync(join(temp.path, 'bootstrap')).filter((name) => name.endsWith('.mjs'));
    assert.equal(cached.length, 1);
    assert.equal(sha256(readFileSync(join(temp.path, 'bootstrap', cached[0] ?? ''))), digest);
  });

  it(
    'installs and enrolls a host with the real agent (--prefix, --no-start)',
    { skip: existsSync(agentMain) ? false : 'agent/main.ts does not exist yet' },
    async () => {
      const token = await createEnrollToken(server, ['boot-*'], 1);
      const prefix = join(temp.path, 'host-root');
      const result = await pipeToSh(`${server.apiUrl}/bootstrap`, {
        TOKEN: token,
        HOST: 'boot-1',
        PREFIX: prefix,
      });
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(token), 'the token is never printed');

      const checksum = await fetchBytes(`${server.apiUrl}/bootstrap/vigo.mjs.sha256`, server.ca);
      const installed = readFileSync(join(prefix, 'usr/local/lib/vigo/vigo.mjs'));
      assert.equal(`${sha256(installed)}  vigo.mjs\n`, checksum.text);
      assert.ok(readdirSync(join(prefix, 'var/lib/vigo')).length > 0, 'the agent wrote its state');

      const adminToken = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
      const envoys = await server.request('/api/v1/envoys', {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.equal(envoys.status, 200, envoys.body);
      assert.match(envoys.body, /"hostname":"boot-1"/);
    },
  );

  it(
    'runs the install command of a new token: CA pinned, token from a file, the real agent enrolled',
    { skip: existsSync(agentMain) ? false : 'agent/main.ts does not exist yet' },
    async () => {
      const adminToken = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
      const created = await server.request('/api/v1/enroll/tokens', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ hostnameGlobs: ['line-*'], uses: 2 }),
      });
      assert.equal(created.status, 201, created.body);
      const { token, install } = created.json<{ token: string; install: InstallCommand }>();
      assert.equal(install.caSha256, caFingerprintSha256(server.ca));
      assert.equal(install.command.includes(token), false, 'the token is not in the command');

      const host = join(temp.path, 'line-host');
      mkdirSync(host);
      writeFileSync(join(host, install.tokenFile), `${token}\n`, { mode: 0o600 });
      // sudo stands for root here: the same arguments, into a prefix, without starting a service.
      const asHost = (command: string, prefix: string) =>
        run(
          '/bin/sh',
          ['-c', `sudo() { "$@" --prefix '${prefix}' --no-start --hostname line-1; }; ${command}`],
          {
            env: process.env,
            cwd: host,
          },
        );

      const wrongPin = install.command.replaceAll(install.caSha256, '0'.repeat(64));
      const refused = await asHost(wrongPin, join(host, 'root-refused'));
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /does not match the pinned fingerprint/);
      assert.equal(existsSync(join(host, 'root-refused')), false, 'nothing was installed');

      const prefix = join(host, 'root');
      const result = await asHost(install.command, prefix);
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /CA certificate matches the pinned fingerprint/);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(token), 'the token is never printed');
      const envoys = await server.request('/api/v1/envoys', {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.match(envoys.body, /"hostname":"line-1"/);
    },
  );
});

/** An agent stand-in: records its arguments and the CA file it was handed, then exits 0. */
const fixtureAgent = `
import { appendFileSync, readFileSync } from 'node:fs';
const args = process.argv.slice(2);
const ca = args.includes('--ca') ? readFileSync(args[args.indexOf('--ca') + 1], 'utf8') : '';
appendFileSync(process.env.FIXTURE_AGENT_RECORD, JSON.stringify({ args, ca }) + '\\n');
`;

describe('the served script, run for real with a fixture agent', () => {
  const temp = makeTempDir('vigo-bootstrap-run-');
  let pki: Pki;
  let listener: HttpsListener;
  let bootstrap: BootstrapService;
  let base: string;
  let tamperChecksum = false;

  before(async () => {
    const agentDir = join(temp.path, 'agent');
    mkdirSync(agentDir);
    writeFileSync(join(agentDir, 'main.ts'), fixtureAgent);
    pki = await loadOrCreatePki({
      tlsDir: join(temp.path, 'tls'),
      hostname: 'localhost',
      extraSans: [],
      log: silentLogger,
    });
    let port = 0;
    bootstrap = createBootstrapService({
      serverVersion: '9.9.9',
      caCertPem: pki.caCertPem,
      serverAddress: () => apiDialAddress('127.0.0.1', port),
      cacheDir: join(temp.path, 'data', 'bootstrap'),
      log: silentLogger,
      agentEntry: join(agentDir, 'main.ts'),
      rootDir: temp.path,
    });
    const broken = createBootstrapService({
      serverVersion: '9.9.9',
      caCertPem: pki.caCertPem,
      serverAddress: () => apiDialAddress('127.0.0.1', port),
      cacheDir: join(temp.path, 'data', 'broken'),
      log: silentLogger,
      agentEntry: join(agentDir, 'missing.ts'),
      rootDir: temp.path,
    });
    const app = createHttpApp({
      log: silentLogger,
      maxBodyBytes: 1024,
      auth: { localAdmin: localAdminCredentialFor('vgla_unused', join(temp.path, 'unused.token')) },
      routes: [
        ...bootstrapRoutes({ bootstrap }),
        ...bootstrapRoutes({ bootstrap: broken }).map((r) => ({ ...r, path: `/broken${r.path}` })),
      ],
    });
    listener = await startHttpsListener({
      host: '127.0.0.1',
      port: 0,
      keyPem: pki.serverKeyPem,
      certPem: pki.serverCertPem,
      // Stands in for a network that alters the checksum on the way, when a test asks for it.
      fetch: (req) =>
        tamperChecksum && new URL(req.url).pathname === '/bootstrap/vigo.mjs.sha256'
          ? new Response(`${'0'.repeat(64)}  vigo.mjs\n`)
          : app.fetch(req),
    });
    port = listener.port;
    base = `https://127.0.0.1:${port}`;
  });
  after(async () => {
    listener?.destroy();
    await listener?.close();
    temp.remove();
  });

  it('downloads, verifies, installs and calls vigo enroll with the server, token, CA and state dir', async () => {
    const prefix = join(temp.path, 'root-ok');
    const record = join(temp.path, 'record.ndjson');
    const token = 'vget_0123456789abcdef_SeCrEtSeCrEt';
    const result = await pipeToSh(`${base}/bootstrap`, {
      TOKEN: token,
      HOST: 'web-7',
      PREFIX: prefix,
      FIXTURE_AGENT_RECORD: record,
    });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.ok(!`${result.stdout}${result.stderr}`.includes('SeCrEt'), 'the token is never printed');
    assert.match(result.stdout, /^vigo-bootstrap: checksum verified/m);

    const calls = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { args: string[]; ca: string });
    assert.equal(calls.length, 1);
    const { args, ca } = calls[0]!;
    const caFile = args[args.indexOf('--ca') + 1] ?? '';
    assert.deepEqual(args, [
      'enroll',
      '--server',
      `127.0.0.1:${listener.port}`,
      '--token',
      token,
      '--ca',
      caFile,
      '--state-dir',
      join(prefix, 'var/lib/vigo'),
      '--hostname',
      'web-7',
    ]);
    assert.equal(ca, pki.caCertPem, 'the agent got the server CA');
    assert.equal(existsSync(caFile), false, 'the download directory is removed');

    const artifact = await bootstrap.artifact();
    const module = join(prefix, 'usr/local/lib/vigo/vigo.mjs');
    assert.equal(sha256(readFileSync(module)), artifact.sha256);
    const wrapper = join(prefix, 'usr/local/bin/vigo');
    assert.equal(statSync(wrapper).mode & 0o777, 0o755);
    assert.match(
      readFileSync(wrapper, 'utf8'),
      new RegExp(`^exec '/[^']*node' --lite-mode --max-semi-space-size=1 '${module}' "\\$@"$`, 'm'),
    );
    assert.equal(readFileSync(join(prefix, 'etc/systemd/system/vigo-envoy.service'), 'utf8'), unitFileText);

    const again = await run(wrapper, ['status', 'it', "'s"], {
      env: { ...process.env, FIXTURE_AGENT_RECORD: record },
    });
    assert.equal(again.status, 0, again.stderr);
    const last = readFileSync(record, 'utf8').trim().split('\n').pop() ?? '';
    assert.deepEqual((JSON.parse(last) as { args: string[] }).args, ['status', 'it', "'s"]);
  });

  it('aborts on a checksum mismatch and installs nothing', async () => {
    const prefix = join(temp.path, 'root-tampered');
    tamperChecksum = true;
    try {
      const result = await pipeToSh(`${base}/bootstrap`, {
        TOKEN: 'T',
        HOST: 'web-8',
        PREFIX: prefix,
        FIXTURE_AGENT_RECORD: join(temp.path, 'never.ndjson'),
      });
      assert.equal(result.status, 1, result.stderr);
      assert.match(
        result.stderr,
        /^vigo-bootstrap: error: checksum mismatch for https:\/\/127\.0\.0\.1:\d+\/bootstrap\/vigo\.mjs/m,
      );
      assert.match(result.stderr, /nothing was installed/);
    } finally {
      tamperChecksum = false;
    }
    assert.equal(existsSync(join(prefix, 'usr')), false);
    assert.equal(existsSync(join(temp.path, 'never.ndjson')), false, 'the agent never ran');
  });

  it('answers 503 bootstrap.agent_unavailable with Retry-After when the agent cannot be built', async () => {
    for (const path of ['/broken/bootstrap/vigo.mjs', '/broken/bootstrap/vigo.mjs.sha256']) {
      const reply = await fetchBytes(`${base}${path}`, pki.caCertPem);
      assert.equal(reply.status, 503, path);
      const body = JSON.parse(reply.text) as { code: string; message: string; requestId: string };
      assert.equal(body.code, 'bootstrap.agent_unavailable');
      assert.match(body.message, /vigosrv log has the esbuild errors/);
      assert.equal(reply.headers['retry-after'], '30');
    }
  });
});
