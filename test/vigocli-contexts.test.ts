/**
 * The real bin/vigocli against a real vigosrv: saved contexts (login saves server, CA copy and token;
 * environment and flags override; list, use, show and delete; a bad file is refused), -o json|yaml|table,
 * `runs list` by hostname and by failed resources, and quiet exit when the reader closes the pipe.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli, vigocliBin } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-ctx-srv-');
const home = makeTempDir('vigo-ctx-home-');
let server: ReadyServer;
let web: EnrolledAgent;
let db: EnrolledAgent;
/** A copy of the server's CA outside its data dir, as an operator's laptop would have it. */
let caCopy: string;
let adminToken: string;
const password = 'correct horse battery staple';
const runIds: Record<string, string> = {};

async function reportRun(
  agent: EnrolledAgent,
  outcomes: ResourceOutcome[],
  startedMs: number,
): Promise<string> {
  const id = randomUUID();
  const results = outcomes.map((outcome, i) => ({
    resourceId: `file:/tmp/r${i}`,
    resourceType: 'file',
    configcrate: 'demo',
    outcome,
    message: outcome === ResourceOutcome.FAILED ? 'permission denied' : 'ok',
    durationMs: 1,
  }));
  const run = {
    runId: id,
    policyVersion: 1n,
    startedAtMs: BigInt(startedMs),
    finishedAtMs: BigInt(startedMs + 5),
    results,
  };
  const client = agentClient(server, agent);
  try {
    const request = signRequest('ReportResults', agent.signingKey, agent.envoyId, createEnvelopeClock()(), {
      runs: [run],
    });
    assert.deepEqual((await client.methods.reportResults(request)).acceptedRunIds, [id]);
  } finally {
    client.close();
  }
  return id;
}

/** vigocli with only the given environment: no --server, --ca or --data-dir unless `args` has them. */
function cli(config: string, args: string[], env: Record<string, string> = {}, input = ''): Promise<CliRun> {
  return runVigocli(
    args,
    cleanCliEnv(home.path, { XDG_CONFIG_HOME: join(home.path, config), ...env }),
    home.path,
    input,
  );
}

/** As the local admin on the server host: the data dir gives the CA and the local-admin token. */
function asAdmin(args: string[]): Promise<CliRun> {
  return cli('admin', ['--server', server.apiUrl, '--data-dir', serverDir.path, ...args]);
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  return run;
}

function json<T>(run: CliRun): T {
  return JSON.parse(ok(run).stdout) as T;
}

function contextsFile(config: string): string {
  return join(home.path, config, 'vigo', 'contexts.json');
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  caCopy = join(home.path, 'vigo-ca.crt');
  copyFileSync(join(serverDir.path, 'tls', 'ca.crt'), caCopy);
  const token = await createEnrollToken(server, ['web-*', 'db-*'], 5);
  [web, db] = await Promise.all([enrollAgent(server, token, 'web-01'), enrollAgent(server, token, 'db-01')]);
  const now = Date.now();
  runIds['webFailed'] = await reportRun(web, [ResourceOutcome.FAILED], now - 4000);
  runIds['webPartial'] = await reportRun(web, [ResourceOutcome.UPDATED, ResourceOutcome.FAILED], now - 3000);
  runIds['webOk'] = await reportRun(web, [ResourceOutcome.NONE], now - 2000);
  runIds['dbPartial'] = await reportRun(db, [ResourceOutcome.FAILED, ResourceOutcome.NONE], now - 1000);
  const adminArgs = ['--server', server.apiUrl, '--data-dir', serverDir.path];
  const create = ['webusers', 'create', '--username', 'ops', '--role', 'admin', '--password-stdin'];
  ok(await cli('admin', [...adminArgs, ...create], {}, `${password}\n`));
  const created = json<{ token: string }>(
    await asAdmin(['tokens', 'create', '--name', 'ci', '--user', 'ops', '--json']),
  );
  adminToken = created.token;
});

after(async () => {
  await server?.stop();
  serverDir.remove();
  home.remove();
});

interface ContextList {
  current: string | null;
  contexts: {
    name: string;
    current: boolean;
    server: string;
    caFingerprint: string | null;
    token: boolean;
  }[];
}

describe('vigocli contexts', () => {
  it('auth login saves server, a CA copy and the token as a context that later commands use alone', async () => {
    const login = ok(
      await cli(
        'laptop',
        [
          'auth',
          'login',
          '--server',
          server.apiUrl,
          '--ca',
          caCopy,
          '--context',
          'prod',
          '--username',
          'ops',
        ],
        {},
        `${password}\n`,
      ),
    );
    assert.match(login.stdout, /saved as context prod \(now current\)/);
    assert.equal(statSync(contextsFile('laptop')).mode & 0o777, 0o600);
    assert.equal(statSync(join(home.path, 'laptop', 'vigo')).mode & 0o777, 0o700);
    const saved = JSON.parse(readFileSync(contextsFile('laptop'), 'utf8')) as {
      current: string;
      contexts: Record<string, { server: string; caPem: string; token: string }>;
    };
    assert.equal(saved.current, 'prod');
    assert.equal(saved.contexts['prod']?.server, new URL(server.apiUrl).href);
    assert.equal(saved.contexts['prod']?.caPem, readFileSync(caCopy, 'utf8'), 'a copy of the CA is saved');
    assert.match(saved.contexts['prod']?.token ?? '', /^vgot_/);

    // The copy keeps working when the file it came from is gone.
    writeFileSync(caCopy, 'moved away\n');
    const status = json<{
      context: string;
      actor: { username: string };
      credential: { source: string; context: string };
    }>(await cli('laptop', ['auth', 'status', '--json']));
    assert.deepEqual(
      [status.context, status.actor.username, status.credential.source, status.credential.context],
      ['prod', 'ops', 'context', 'prod'],
    );
    copyFileSync(join(serverDir.path, 'tls', 'ca.crt'), caCopy);

    const list = json<ContextList>(await cli('laptop', ['context', 'list', '-o', 'json']));
    assert.equal(list.current, 'prod');
    assert.deepEqual(
      list.contexts.map((c) => [c.name, c.current, c.token, c.caFingerprint !== null]),
      [['prod', true, true, true]],
    );
    assert.doesNotMatch(JSON.stringify(list), /vgot_/, 'tokens are never printed');
    const table = ok(await cli('laptop', ['context', 'list']));
    assert.match(table.stdout, /^CURRENT\s+NAME\s+SERVER\s+CA\s+TOKEN$/m);
    assert.match(table.stdout, /^\*\s+prod\s+https:\/\/127\.0\.0\.1:\d+\/\s+\S+\s+saved$/m);

    const wrong = await cli(
      'nobody',
      ['auth', 'login', '--server', server.apiUrl, '--ca', caCopy, '--context', 'x', '--username', 'ops'],
      {},
      'wrong\n',
    );
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.throws(() => statSync(contextsFile('nobody')), /ENOENT/, 'a failed sign-in saves nothing');
  });

  it('takes flags over environment over the named context over the current one, and keeps a context to its server', async () => {
    ok(
      await cli('multi', [
        'auth',
        'set-token',
        adminToken,
        '--server',
        server.apiUrl,
        '--ca',
        caCopy,
        '--context',
        'one',
      ]),
    );
    ok(
      await cli('multi', [
        'auth',
        'set-token',
        adminToken,
        '--server',
        server.apiUrl,
        '--ca',
        caCopy,
        '--context',
        'two',
      ]),
    );
    // The last save is current; `use` switches.
    assert.equal(json<ContextList>(await cli('multi', ['context', 'list', '--json'])).current, 'two');
    ok(await cli('multi', ['context', 'use', 'one']));
    const shown = json<{
      context: string;
      selectedBy: string;
      server: { source: string };
      ca: { source: string };
    }>(await cli('multi', ['context', 'show', '--json']));
    assert.deepEqual(
      [shown.context, shown.selectedBy, shown.server.source, shown.ca.source],
      ['one', 'current', 'context', 'context'],
    );

    const [byEnv, byFlag, tokenEnv, unknown] = await Promise.all([
      cli('multi', ['context', 'show', '--json'], { VIGO_CONTEXT: 'two' }),
      cli('multi', ['context', 'show', '--json', '--context', 'one'], { VIGO_CONTEXT: 'two' }),
      cli('multi', ['auth', 'status', '--json'], { VIGO_TOKEN: 'vgot_from_env' }),
      cli('multi', ['context', 'show', '--context', 'nosuch']),
    ]);
    assert.equal(json<{ selectedBy: string; context: string }>(byEnv).context, 'two');
    assert.deepEqual(Object.values(json<{ context: string; selectedBy: string }>(byFlag)).slice(0, 2), [
      'one',
      'flag',
    ]);
    assert.equal(tokenEnv.code, 4, 'VIGO_TOKEN wins over the context token (and this one is refused)');
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /cli\.context_unknown: --context nosuch: no such saved context \(saved: one, two\)/,
    );

    // Another server named by VIGO_SERVER never gets the context's CA or token.
    const elsewhere = await cli('multi', ['context', 'show', '--json', '--data-dir', serverDir.path], {
      VIGO_SERVER: 'https://127.0.0.1:1',
    });
    const other = json<{
      context: string | null;
      ignoredContext: string;
      server: { source: string };
      ca: { source: string };
      credential: { source: string };
    }>(elsewhere);
    assert.deepEqual(
      [other.context, other.ignoredContext, other.server.source, other.ca.source, other.credential.source],
      [null, 'one', 'env', 'default', 'local-admin-file'],
    );
    const envCa = json<{ ca: { source: string; file: string } }>(
      await cli('multi', ['context', 'show', '--json'], { VIGO_CA: caCopy }),
    );
    assert.deepEqual([envCa.ca.source, envCa.ca.file], ['env', caCopy]);

    const deleted = ok(await cli('multi', ['context', 'delete', 'one']));
    assert.match(deleted.stdout, /Deleted context one; no context is current now/);
    const after = json<ContextList>(await cli('multi', ['context', 'list', '-o', 'json']));
    assert.deepEqual([after.current, after.contexts.map((c) => c.name)], [null, ['two']]);
    const gone = await cli('multi', ['context', 'use', 'one']);
    assert.equal(gone.code, 2);
  });

  it('refuses a contexts file others can read, one that is not what vigocli writes, and one too large', async () => {
    const dir = join(home.path, 'bad', 'vigo');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'contexts.json');
    const write = (text: string, mode = 0o600): void => {
      writeFileSync(file, text, { mode });
      chmodSync(file, mode);
    };
    write('{"current":null,"contexts":{}}\n', 0o644);
    const loose = await cli('bad', ['context', 'list']);
    assert.equal(loose.code, 4);
    assert.match(loose.stderr, /refusing the contexts file .*mode is 0644.*chmod 600/);

    const cases: [string, RegExp][] = [
      ['not json', /it is not JSON/],
      ['{"current":"x","contexts":{}}', /"current" names no context/],
      [
        '{"current":null,"contexts":{"a":{"server":"http://x"}}}',
        /context a: server is not an https:\/\/ URL/,
      ],
      [
        '{"current":null,"contexts":{"a":{"server":"https://x","caPem":"nope"}}}',
        /its CA certificate is not a PEM/,
      ],
      ['{"current":null,"contexts":{"a b":{"server":"https://x"}}}', /context names are/],
      ['{"current":null,"contexts":{},"extra":1}', /unknown fields: extra/],
      [`{"current":null,"contexts":{},"pad":"${'x'.repeat(1024 * 1024)}"}`, /larger than 1048576 bytes/],
    ];
    for (const [text, message] of cases) {
      write(text);
      const run = await cli('bad', ['context', 'list', '--json']);
      assert.equal(run.code, 1, `${text.slice(0, 60)}: ${run.stderr}`);
      const error = JSON.parse(run.stderr) as { code: string; message: string };
      assert.equal(error.code, 'cli.context_file');
      assert.match(error.message, message);
    }
    // Flags alone need no contexts file, so a broken one does not block an explicit command line.
    const explicit = await cli('bad', [
      '--server',
      server.apiUrl,
      '--ca',
      caCopy,
      '--token',
      adminToken,
      'envoys',
      'list',
      '--json',
    ]);
    assert.equal(explicit.code, 0, explicit.stderr);
  });
});

describe('vigocli output formats and runs filters', () => {
  it('prints the same data as -o json, -o yaml and --json, and a table by default', async () => {
    const [asJson, asYaml, alias, table, clash, bad] = await Promise.all([
      asAdmin(['envoys', 'list', '-o', 'json']),
      asAdmin(['envoys', 'list', '-oyaml']),
      asAdmin(['envoys', 'list', '--json']),
      asAdmin(['envoys', 'list']),
      asAdmin(['envoys', 'list', '--json', '-o', 'yaml']),
      asAdmin(['envoys', 'list', '-o', 'xml']),
    ]);
    const data = json<{ items: { hostname: string }[]; total: number }>(asJson);
    assert.equal(data.total, 2);
    assert.deepEqual(parseYaml(ok(asYaml).stdout), data);
    assert.deepEqual(JSON.parse(ok(alias).stdout), data);
    assert.match(ok(table).stdout, /^ID\s+HOSTNAME\s+STATUS/m);
    assert.equal(clash.code, 2);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-o must be one of table, json, yaml/);

    const [show, run, error] = await Promise.all([
      asAdmin(['envoys', 'show', 'web-01', '-o', 'yaml']),
      asAdmin(['runs', 'show', runIds['webPartial'] as string, '--output-format', 'yaml']),
      asAdmin(['envoys', 'show', 'nosuch-01', '-o', 'yaml']),
    ]);
    assert.equal((parseYaml(ok(show).stdout) as { hostname: string }).hostname, 'web-01');
    assert.equal((parseYaml(ok(run).stdout) as { results: unknown[] }).results.length, 2);
    assert.equal(error.code, 1);
    assert.equal((parseYaml(error.stderr) as { code: string }).code, 'fleet.envoy_not_found');

    const version = ok(await cli('x', ['--version']));
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(version.stdout, `vigocli ${pkg.version} (Node.js ${process.versions.node})\n`);
    assert.deepEqual(json(await cli('x', ['--version', '-o', 'json'])), {
      vigocli: pkg.version,
      node: process.versions.node,
    });
  });

  it('lists runs of an envoy named by hostname, and --status failed finds runs with any failed resource', async () => {
    type Page = { items: { id: string; status: string }[] };
    const [failed, webFailed, partial, byId, missing] = await Promise.all([
      asAdmin(['runs', 'list', '--status', 'failed', '-o', 'json']),
      asAdmin(['runs', 'list', '--envoy', 'WEB-01', '--status', 'failed', '--json']),
      asAdmin(['runs', 'list', '--status', 'partial', '--json']),
      asAdmin(['runs', 'list', '--envoy', web.envoyId, '--json']),
      asAdmin(['runs', 'list', '--envoy', 'nosuch-01']),
    ]);
    assert.deepEqual(
      json<Page>(failed).items.map((r) => [r.id, r.status]),
      [
        [runIds['dbPartial'], 'partial'],
        [runIds['webPartial'], 'partial'],
        [runIds['webFailed'], 'failed'],
      ],
    );
    assert.deepEqual(
      json<Page>(webFailed).items.map((r) => r.id),
      [runIds['webPartial'], runIds['webFailed']],
    );
    assert.deepEqual(
      json<Page>(partial).items.map((r) => r.id),
      [runIds['dbPartial'], runIds['webPartial']],
    );
    assert.deepEqual(
      json<Page>(byId).items.map((r) => r.id),
      [runIds['webOk'], runIds['webPartial'], runIds['webFailed']],
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /fleet\.envoy_not_found/);
  });
});

describe('vigocli and a closed pipe', () => {
  it('exits 0 without a word when the reader has gone before it writes', async () => {
    const child = spawn(vigocliBin, ['help', 'contexts'], {
      env: cleanCliEnv(home.path),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reading end closes at once, long before vigocli has started: its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
