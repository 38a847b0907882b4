/**
 * The real bin/vigocli against a real vigosrv: token create/list/revoke, the created token enrolling a
 * host, where credentials come from, and the documented exit codes.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawFromPublicKey } from '../protocol/index.ts';
import { caFingerprintSha256 } from '../server/bootstrap/index.ts';
import { silentLogger } from '../server/core/index.ts';
import { generateAgentKeyAndCsr, loadOrCreatePki } from '../server/pki/index.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { commands } from '../cli/run.ts';
import { freeLoopbackPort, makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-cli-srv-');
const home = makeTempDir('vigo-cli-home-');
let server: ReadyServer;

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
});
after(async () => {
  await server?.stop();
  serverDir.remove();
  home.remove();
});

type Run = CliRun;

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return cleanCliEnv(home.path, extra);
}

function vigocli(args: string[], env: Record<string, string> = cleanEnv()): Promise<Run> {
  return runVigocli(args, env, home.path);
}

/** Global flags that point vigocli at the test server and its data dir (for ca.crt and the local-admin token). */
function at(): string[] {
  return ['--server', server.apiUrl, '--data-dir', serverDir.path];
}

describe('vigocli enroll token', () => {
  it('creates a token (--json) that enrolls a host, then lists and revokes it', async () => {
    const created = await vigocli([
      ...at(),
      'enroll',
      'token',
      'create',
      '--hostname',
      'cli-*',
      '--hostname',
      'alt-?',
      '--uses',
      '2',
      '--expires',
      '2h',
      '--description',
      'from the cli',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const token = JSON.parse(created.stdout) as {
      id: string;
      token: string;
      hostnameGlobs: string[];
      usesAllowed: number;
    };
    assert.deepEqual(token.hostnameGlobs, ['cli-*', 'alt-?']);
    assert.equal(token.usesAllowed, 2);

    const { publicKey } = generateKeyPairSync('ed25519');
    const { csrPem } = await generateAgentKeyAndCsr('cli-01');
    const enrolled = await server.request('/api/v1/enroll', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: token.token,
        hostname: 'cli-01',
        publicKey: rawFromPublicKey(publicKey).toString('base64'),
        csr: csrPem,
      }),
    });
    assert.equal(enrolled.status, 200, enrolled.body);

    const listed = await vigocli([...at(), 'enroll', 'token', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const listing = JSON.parse(listed.stdout) as {
      tokens: { id: string; usesCount: number; status: string }[];
    };
    assert.equal(listing.tokens.find((t) => t.id === token.id)?.usesCount, 1);
    assert.equal(listed.stdout.includes(token.token.slice(22)), false, 'no secret in the list');

    const table = await vigocli([...at(), 'enroll', 'token', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+STATUS\s+USES\s+EXPIRES\s+HOSTNAMES\s+DESCRIPTION$/m);
    assert.match(
      table.stdout,
      new RegExp(`^${token.id}\\s+active\\s+1/2\\s+.*cli-\\*,alt-\\?\\s+from the cli$`, 'm'),
    );

    const revoked = await vigocli([...at(), 'enroll', 'token', 'revoke', token.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`${token.id} is revoked`));
    const after = await vigocli([...at(), 'enroll', 'token', 'list', '--json']);
    const status = (JSON.parse(after.stdout) as typeof listing).tokens.find((t) => t.id === token.id)?.status;
    assert.equal(status, 'revoked');
  });

  it('prints a created token once in human form, with the install command that pins the CA', async () => {
    const run = await vigocli([...at(), 'enroll', 'token', 'create', '--hostname', 'web-*']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /shown only this once/);
    const token = /^ {2}(vget_[0-9a-f]{16}_[A-Za-z0-9_-]{43})$/m.exec(run.stdout)?.[1] ?? '';
    assert.notEqual(token, '');
    const fingerprint = caFingerprintSha256(readFileSync(join(serverDir.path, 'tls', 'ca.crt'), 'utf8'));
    const command = run.stdout.split('\n').find((line) => line.includes('/bootstrap'));
    assert.ok(command !== undefined, run.stdout);
    assert.match(command, new RegExp(`^ {2}curl -sSfk .*'https://[^']+:\\d+/bootstrap/ca\\.crt'`));
    assert.match(
      command,
      new RegExp(`= ${fingerprint} \\]`),
      'the CA is pinned before the script is fetched',
    );
    assert.match(command, /\| sudo sh -s -- --ca-sha256 [0-9a-f]{64} --token-file 'vigo-enroll-token'$/);
    assert.equal(command.includes(token.slice(5)), false, 'the token is not in the command');
    assert.match(run.stdout, /^ {2}\(umask 077; cat > 'vigo-enroll-token'\)/m);
    assert.match(run.stdout, new RegExp(`fingerprint ${fingerprint}`));
  });

  it('exits 1 with code, message and request id when the server refuses', async () => {
    const run = await vigocli([...at(), 'enroll', 'token', 'revoke', '0123456789abcdef']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /enroll\.token_not_found: .*\(request id [0-9a-f-]{36}\)/);
    const bad = await vigocli([
      ...at(),
      'enroll',
      'token',
      'create',
      '--hostname',
      'web-*',
      '--expires',
      '100d',
      '--json',
    ]);
    assert.equal(bad.code, 1);
    const envelope = JSON.parse(bad.stderr) as { code: string; requestId: string };
    assert.equal(envelope.code, 'request.invalid');
    assert.match(envelope.requestId, /^[0-9a-f-]{36}$/);
  });

  it('exits 2 on usage errors without contacting the server', async () => {
    for (const args of [
      ['enroll', 'token', 'create'],
      ['enroll', 'token', 'create', '--hostname', 'x', '--uses', 'many'],
      ['enroll', 'tokn', 'list'],
      ['enroll', 'token', 'list', '--hostname', 'x'],
      ['enroll', 'token', 'revoke'],
      ['--bogus'],
      [],
    ]) {
      const run = await vigocli(['--server', 'https://127.0.0.1:1', ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /cli\.usage/);
    }
    const help = await vigocli(['--help']);
    assert.equal(help.code, 0);
    const listed = help.stdout
      .split('\n')
      .filter((l) => /^ {2}[a-z]/.test(l))
      .map((l) => l.trim().split(/\s{2,}/)[0]);
    assert.deepEqual(
      listed,
      commands.map((c) => c.path.join(' ')),
      '--help lists exactly the commands that exist',
    );
    assert.ok(listed.includes('enroll token create') && listed.includes('config publish'));
  });

  it('exits 3 when the server cannot be reached or TLS fails', async () => {
    const port = await freeLoopbackPort();
    const down = await vigocli([
      '--server',
      `https://127.0.0.1:${port}`,
      '--data-dir',
      serverDir.path,
      'enroll',
      'token',
      'list',
    ]);
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr, /cannot reach vigosrv/);

    const otherTls = join(home.path, 'other-tls');
    await loadOrCreatePki({ tlsDir: otherTls, hostname: 'localhost', extraSans: [], log: silentLogger });
    const wrongCa = await vigocli([...at(), '--ca', join(otherTls, 'ca.crt'), 'enroll', 'token', 'list']);
    assert.equal(wrongCa.code, 3, wrongCa.stderr);
    assert.match(wrongCa.stderr, /TLS/);

    const noCa = await vigocli([...at(), '--ca', join(home.path, 'missing.crt'), 'enroll', 'token', 'list']);
    assert.equal(noCa.code, 3, noCa.stderr);
  });

  it('exits 4 for a bad credential, and takes the token from --token, VIGO_TOKEN, then ~/.config/vigo/token', async () => {
    const flag = await vigocli([...at(), '--token', 'vgla_wrong', 'enroll', 'token', 'list']);
    assert.equal(flag.code, 4, flag.stderr);
    assert.match(flag.stderr, /auth\.required/);
    const fromEnv = await vigocli(
      [...at(), 'enroll', 'token', 'list'],
      cleanEnv({ VIGO_TOKEN: 'vgla_wrong' }),
    );
    assert.equal(fromEnv.code, 4, 'VIGO_TOKEN is used before the local-admin token');

    const dir = join(home.path, '.config', 'vigo');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'token');
    writeFileSync(file, 'vgla_wrong\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    const loose = await vigocli([...at(), 'enroll', 'token', 'list']);
    assert.equal(loose.code, 4);
    assert.match(loose.stderr, /chmod 600/);
    chmodSync(file, 0o600);
    const fromFile = await vigocli([...at(), 'enroll', 'token', 'list']);
    assert.equal(fromFile.code, 4, 'the user token file is used before the local-admin token');
    const xdg = join(home.path, 'xdg-empty');
    const viaLocalAdmin = await vigocli(
      [...at(), 'enroll', 'token', 'list'],
      cleanEnv({ XDG_CONFIG_HOME: xdg }),
    );
    assert.equal(viaLocalAdmin.code, 0, viaLocalAdmin.stderr);
  });
});
