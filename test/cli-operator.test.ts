/**
 * The real bin/vigocli against one real vigosrv for the whole file: web users and API tokens, where the
 * credential comes from (set-token, login with the password on stdin, status, clear), permissions (a
 * viewer gets exit 4), envoys list/show/push/revoke, runs, audit list and verify (also of a tampered
 * chain), and `events -f` receiving live events, resuming across a server restart and stopping cleanly
 * on SIGINT.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceOutcome, createEnvelopeClock, signRequest } from '../protocol/index.ts';
import { apiTokenPrefix as serverTokenPrefix } from '../server/identity/index.ts';
import { commands } from '../cli/run.ts';
import { apiTokenPrefix } from '../cli/commands/auth.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { freeLoopbackPort, makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli, vigocliBin } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-cliop-srv-');
const home = makeTempDir('vigo-cliop-home-');
let server: ReadyServer;
let web: EnrolledAgent;
let db: EnrolledAgent;
let runId: string;
/** Fixed, so a restarted server keeps the address a running `events -f` reconnects to. */
let apiPort: number;

function outcome(resourceId: string, outcome: ResourceOutcome, message: string, durationMs: number) {
  const [resourceType = ''] = resourceId.split(':');
  return {
    resourceId,
    resourceType,
    configcrate: resourceType === 'file' ? 'motd' : 'web',
    outcome,
    message,
    durationMs,
  };
}

/** One run of web-01 as its agent reports it: one resource updated, one failed. */
async function reportRun(agent: EnrolledAgent): Promise<string> {
  const id = randomUUID();
  const run = {
    runId: id,
    policyVersion: 1n,
    startedAtMs: BigInt(Date.now() - 40),
    finishedAtMs: BigInt(Date.now()),
    results: [
      outcome('file:/etc/motd', ResourceOutcome.UPDATED, 'content changed', 4),
      outcome('service:nginx', ResourceOutcome.FAILED, 'unit nginx.service not found', 9),
    ],
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

before(async () => {
  apiPort = await freeLoopbackPort();
  server = await startServer({ dataDir: serverDir.path, apiListen: `127.0.0.1:${apiPort}` });
  const token = await createEnrollToken(server, ['web-*', 'db-*'], 5);
  [web, db] = await Promise.all([enrollAgent(server, token, 'web-01'), enrollAgent(server, token, 'db-01')]);
  runId = await reportRun(web);
});
after(async () => {
  await server?.stop();
  serverDir.remove();
  home.remove();
});

interface RunOptions {
  /** A config dir of its own, so scenarios do not share ~/.config/vigo/contexts.json. */
  config?: string;
  env?: Record<string, string>;
  input?: string;
}

function envFor(options: RunOptions): Record<string, string> {
  const config = join(home.path, options.config ?? 'default');
  return cleanCliEnv(home.path, { XDG_CONFIG_HOME: config, ...options.env });
}

/** vigocli pointed at the test server and its data dir (for ca.crt and the local-admin token). */
function vigocli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, ...args],
    envFor(options),
    home.path,
    options.input ?? '',
  );
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

/** The tokens saved in a config dir's contexts, by context name. */
function savedTokens(config: string): Record<string, string | undefined> {
  const file = JSON.parse(readFileSync(contextsFile(config), 'utf8')) as {
    contexts: Record<string, { token?: string }>;
  };
  return Object.fromEntries(Object.entries(file.contexts).map(([name, c]) => [name, c.token]));
}

describe('vigocli command table', () => {
  it('declares each flag name with one arity, since flags are split before the command is known', () => {
    const arity = new Map<string, { takesValue: boolean; where: string }>();
    for (const command of commands) {
      for (const flag of command.flags ?? []) {
        const seen = arity.get(flag.name);
        const takesValue = flag.value !== undefined;
        const where = command.path.join(' ');
        if (seen === undefined) arity.set(flag.name, { takesValue, where });
        else
          assert.equal(
            takesValue,
            seen.takesValue,
            `--${flag.name} differs between "${seen.where}" and "${where}"`,
          );
      }
    }
    assert.equal(apiTokenPrefix, serverTokenPrefix);
  });
});

describe('vigocli webusers, tokens and auth', () => {
  it('creates users and tokens as the local admin, saves a token with set-token and shows it in status', async () => {
    const [alice, vic, ownerless] = await Promise.all([
      vigocli(['webusers', 'create', '--username', 'alice', '--role', 'admin', '--display-name', 'Alice A']),
      vigocli(['webusers', 'create', '--username', 'vic', '--role', 'viewer', '--json']),
      vigocli(['tokens', 'create', '--name', 'nobody']),
    ]);
    assert.match(ok(alice).stdout, /^Created web user alice \(usr_[0-9a-f]+, role admin\)/);
    assert.equal(json<{ role: string }>(vic).role, 'viewer');
    assert.equal(ownerless.code, 1);
    assert.match(ownerless.stderr, /token owner must be a real web user/);

    const [users, aliceToken, vicToken] = await Promise.all([
      vigocli(['webusers', 'list']),
      vigocli(['auth', 'create-token', '--name', 'laptop', '--user', 'alice']),
      vigocli(['tokens', 'create', '--name', 'dash', '--user', 'vic', '--expires-in', '1h', '--json']),
    ]);
    assert.match(ok(users).stdout, /^USERNAME\s+ROLE\s+STATUS\s+PASSWORD\s+ID\s+CREATED\s+NAME\s+EMAIL$/m);
    assert.match(users.stdout, /^alice\s+admin\s+enabled\s+no\s+usr_\S+\s+\S+\s+Alice A$/m);
    assert.match(users.stdout, /^vic\s+viewer\s+enabled\s+no\s/m);
    const aliceId = /^ID: (tok_[0-9a-f]+)$/m.exec(ok(aliceToken).stdout)?.[1];
    const aliceSecret = /^Token: (vgot_\S+)$/m.exec(aliceToken.stdout)?.[1];
    assert.ok(aliceId !== undefined && aliceSecret !== undefined, aliceToken.stdout);
    const vicSecret = json<{ token: string; username: string }>(vicToken);
    assert.equal(vicSecret.username, 'vic');

    ok(await vigocli(['auth', 'set-token', aliceSecret], { config: 'a' }));
    assert.equal(statSync(contextsFile('a')).mode & 0o777, 0o600);
    assert.deepEqual(Object.values(savedTokens('a')), [aliceSecret]);
    assert.equal(statSync(join(home.path, 'a', 'vigo')).mode & 0o777, 0o700);

    const [status, envStatus, forbidden, badToken, unknownToken] = await Promise.all([
      vigocli(['auth', 'status'], { config: 'a' }),
      vigocli(['auth', 'status', '--json'], { config: 'a', env: { VIGO_TOKEN: vicSecret.token } }),
      vigocli(['--token', vicSecret.token, 'webusers', 'create', '--username', 'eve', '--role', 'admin']),
      vigocli(['auth', 'set-token', 'not-a-token'], { config: 'b' }),
      vigocli(['auth', 'set-token', 'vgot_unknown'], { config: 'b' }),
    ]);
    assert.match(
      ok(status).stdout,
      new RegExp(`^Signed in as: alice \\(role admin\\) via API token ${aliceId}$`, 'm'),
    );
    assert.match(status.stdout, /^Credential: +the saved context 127\.0\.0\.1-\d+$/m);
    assert.match(status.stdout, /^Permissions: .*\badmin\b/m);
    const fromEnv = json<{ actor: { username: string; role: string }; credential: { source: string } }>(
      envStatus,
    );
    assert.deepEqual(
      [fromEnv.actor.username, fromEnv.actor.role, fromEnv.credential.source],
      ['vic', 'viewer', 'env'],
    );
    assert.equal(forbidden.code, 4, forbidden.stderr);
    assert.match(forbidden.stderr, /auth\.forbidden/);
    assert.equal(badToken.code, 2);
    assert.equal(unknownToken.code, 4);
    assert.throws(() => statSync(contextsFile('b')), /ENOENT/, 'a refused token is not saved');
  });

  it('logs in with the password on stdin, and clear --revoke revokes the saved token', async () => {
    const password = 'correct horse battery staple';
    ok(
      await vigocli(['webusers', 'create', '--username', 'lena', '--role', 'operator', '--password-stdin'], {
        input: `${password}\n`,
      }),
    );
    const [login, wrong] = await Promise.all([
      vigocli(['auth', 'login', '--username', 'lena'], { config: 'lena', input: `${password}\n` }),
      vigocli(['auth', 'login', '--username', 'lena'], { config: 'wrong', input: 'not the password\n' }),
    ]);
    assert.match(ok(login).stdout, /as lena \(role operator\)/);
    assert.equal(statSync(contextsFile('lena')).mode & 0o777, 0o600);
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.throws(() => statSync(contextsFile('wrong')), /ENOENT/);

    const status = json<{ actor: { kind: string; username: string; tokenId: string } }>(
      await vigocli(['auth', 'status', '--json'], { config: 'lena' }),
    );
    assert.deepEqual([status.actor.kind, status.actor.username], ['api-token', 'lena']);

    const cleared = ok(await vigocli(['auth', 'clear', '--revoke'], { config: 'lena' }));
    assert.match(cleared.stdout, new RegExp(`revoked API token ${status.actor.tokenId}`));
    assert.deepEqual(Object.values(savedTokens('lena')), [undefined], 'the context keeps no token');
    const tokens = json<{ items: { id: string; name: string; status: string }[] }>(
      await vigocli(['tokens', 'list', '--user', 'lena', '--json']),
    );
    const saved = tokens.items.find((t) => t.id === status.actor.tokenId);
    assert.equal(saved?.status, 'revoked');
    assert.match(saved.name, /^vigocli@/);
  });
});

describe('vigocli envoys and runs', () => {
  it('lists envoys as a table and as JSON, follows pages with --all, and shows one by hostname', async () => {
    const [table, listed, paged, firstPage, shown, missing] = await Promise.all([
      vigocli(['envoys', 'list']),
      vigocli(['envoys', 'list', '--hostname', 'web-*', '--json']),
      vigocli(['envoys', 'list', '--limit', '1', '--all', '--json']),
      vigocli(['envoys', 'list', '--limit', '1']),
      vigocli(['envoys', 'show', 'web-01']),
      vigocli(['envoys', 'show', 'nosuch-01']),
    ]);
    assert.match(
      ok(table).stdout,
      /^ID\s+HOSTNAME\s+STATUS\s+CONVERGENCE\s+DRIFT\s+REACH\s+LAST SEEN\s+POLICY\s+AGENT\s+PUSH$/m,
    );
    // web-01's one run: a change and a failure, one of the two resources applied failed.
    assert.match(
      table.stdout,
      new RegExp(
        `^${web.envoyId}\\s+web-01\\s+active\\s+failed\\s+changed\\s+offline\\s+never\\s+\\d+$`,
        'm',
      ),
    );
    assert.match(table.stdout, /^2 envoys$/m);
    const webOnly = json<{ items: { id: string; hostname: string }[]; total: number }>(listed);
    assert.deepEqual(
      webOnly.items.map((e) => [e.id, e.hostname]),
      [[web.envoyId, 'web-01']],
    );
    const all = json<{ items: { id: string }[]; nextCursor: null }>(paged);
    assert.deepEqual(all.items.map((e) => e.id).sort(), [web.envoyId, db.envoyId].sort());
    assert.match(ok(firstPage).stdout, /^\(1 of 2 shown; --all lists every one/m);
    assert.match(ok(shown).stdout, /^Envoy web-01$/m);
    assert.match(shown.stdout, new RegExp(`^  id: +${web.envoyId}$`, 'm'));
    assert.match(shown.stdout, new RegExp(`^${runId}\\s+web-01\\s+\\S+\\s+partial\\s`, 'm'));
    assert.match(
      shown.stdout,
      /^service:nginx\s+service\s+web\s+failed\s+9ms\s+unit nginx\.service not found$/m,
    );
    assert.match(shown.stdout, /^ {2}convergence: +failed \(since /m);
    assert.match(shown.stdout, new RegExp(`^\\S+\\s+no_data -> failed\\s+none -> changed\\s+${runId}$`, 'm'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /fleet\.envoy_not_found: no envoy has the hostname nosuch-01/);
  });

  it('filters envoys by convergence, drift and reachability, and refuses an unknown state', async () => {
    const [failed, converged, diverged, bad, shownJson] = await Promise.all([
      vigocli(['envoys', 'list', '--convergence', 'failed', '--drift', 'changed', '--json']),
      vigocli(['envoys', 'list', '--convergence', 'no_data', '--reachability', 'offline', '--json']),
      vigocli(['envoys', 'list', '--drift', 'diverged', '--json']),
      vigocli(['envoys', 'list', '--convergence', 'green']),
      vigocli(['envoys', 'show', 'web-01', '--history', '1', '--json']),
    ]);
    const ids = (r: Awaited<ReturnType<typeof vigocli>>): string[] =>
      json<{ items: { id: string }[] }>(r).items.map((e) => e.id);
    assert.deepEqual(ids(failed), [web.envoyId]);
    assert.deepEqual(ids(converged), [db.envoyId]);
    assert.deepEqual(ids(diverged), []);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--convergence must be one of converged, degraded, failed, no_data, got green/);
    const detail = json<{ convergence: string; convergenceHistory: { runId: string; status: string }[] }>(
      shownJson,
    );
    assert.equal(detail.convergence, 'failed');
    assert.deepEqual(
      detail.convergenceHistory.map((h) => [h.runId, h.status]),
      [[runId, 'failed']],
    );
  });

  it('pushes to an envoy and revokes one, insisting on --yes without a terminal', async () => {
    const [pushed, unconfirmed] = await Promise.all([
      vigocli(['envoys', 'push', 'web-01']),
      vigocli(['envoys', 'revoke', db.envoyId]),
    ]);
    assert.match(ok(pushed).stdout, /^Envoy web-01 gets its full bundle at its next check-in\.$/m);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /needs --yes/);

    const [revoked, shown] = await Promise.all([
      vigocli(['envoys', 'revoke', 'db-01', '--yes', '--reason', 'decommissioned']),
      vigocli(['envoys', 'show', web.envoyId, '--json']),
    ]);
    assert.match(
      ok(revoked).stdout,
      new RegExp(
        `^Envoy db-01 \\(${db.envoyId}\\) is revoked: its check-ins are refused from now on\\.$`,
        'm',
      ),
    );
    assert.equal(json<{ forcePush: boolean }>(shown).forcePush, true);
    const revokedList = await vigocli(['envoys', 'list', '--status', 'revoked', '--json']);
    assert.deepEqual(
      json<{ items: { id: string }[] }>(revokedList).items.map((e) => e.id),
      [db.envoyId],
    );
  });

  it('lists runs and shows every resource outcome of one', async () => {
    const [table, listed, shown] = await Promise.all([
      vigocli(['runs', 'list']),
      vigocli(['runs', 'list', '--envoy', web.envoyId, '--status', 'partial', '--json']),
      vigocli(['runs', 'show', runId]),
    ]);
    assert.match(
      ok(table).stdout,
      /^RUN\s+HOSTNAME\s+STARTED\s+STATUS\s+POLICY\s+CHANGED\s+FAILED\s+TOTAL$/m,
    );
    assert.match(
      table.stdout,
      new RegExp(`^${runId}\\s+web-01\\s+\\S+\\s+partial\\s+1\\s+1\\s+1\\s+2$`, 'm'),
    );
    assert.deepEqual(
      json<{ items: { id: string }[] }>(listed).items.map((r) => r.id),
      [runId],
    );
    assert.match(ok(shown).stdout, /^ {2}resources: 2 total, 1 changed, 1 failed$/m);
    assert.match(shown.stdout, /^file:\/etc\/motd\s+file\s+motd\s+updated\s+4ms\s+content changed$/m);
    assert.match(
      shown.stdout,
      /^service:nginx\s+service\s+web\s+failed\s+9ms\s+unit nginx\.service not found$/m,
    );
  });
});

interface FollowingCli {
  stdout(): string;
  stderr(): string;
  stop(): Promise<number | null>;
}

function follow(args: string[]): FollowingCli {
  const child = spawn(
    vigocliBin,
    ['--server', server.apiUrl, '--data-dir', serverDir.path, 'events', ...args],
    {
      env: envFor({}),
      cwd: home.path,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    stdout: () => out,
    stderr: () => err,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

function lines(text: string, what: string): string[] {
  return text.split('\n').filter((l) => l.includes(what));
}

/** Pushes to web-01 until every check holds: a follower only sees events from after it connected. */
async function pushUntil(what: string, check: () => boolean): Promise<void> {
  await waitFor(
    what,
    async () => {
      ok(await vigocli(['envoys', 'push', web.envoyId]));
      return check() ? true : undefined;
    },
    20_000,
  );
}

describe('vigocli events -f', () => {
  it('prints live events as lines and as ndjson, resumes across a server restart, exits 0 on SIGINT', async (t) => {
    const human = follow(['-f', '--types', 'envoy.*']);
    const raw = follow(['--follow', '--json']);
    t.after(async () => {
      await Promise.all([human.stop(), raw.stop()]);
    });
    const connected = (n: number) => () =>
      lines(human.stderr(), 'Following events').length >= n ? true : undefined;
    await waitFor('the human stream to connect', connected(1));
    const pushLines = (f: FollowingCli) => lines(f.stdout(), 'envoy.push_requested').length;
    await pushUntil('both streams to print a push event', () => pushLines(human) > 0 && pushLines(raw) > 0);
    assert.match(
      human.stdout(),
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z  envoy\\.push_requested +${web.envoyId}  \\{.*\\}$`, 'm'),
    );
    const [line = ''] = lines(raw.stdout(), 'envoy.push_requested');
    const event = JSON.parse(line) as { id: string; type: string; subject: string };
    assert.deepEqual([event.type, event.subject], ['envoy.push_requested', web.envoyId]);

    // A restart ends the stream; the follower reconnects with Last-Event-ID, which the new boot answers
    // with a stream.gap (its ring does not hold the old ids), and goes on printing.
    assert.equal(await server.stop(), 0);
    server = await startServer({ dataDir: serverDir.path, apiListen: `127.0.0.1:${apiPort}` });
    await waitFor('the human stream to reconnect', connected(2), 20_000);
    assert.match(human.stderr(), /^Event stream lost \(.*\); reconnecting in [\d.]+s \(attempt 1 of 8\)$/m);
    const seen = pushLines(human);
    await pushUntil('a push event after the restart', () => pushLines(human) > seen);
    assert.match(human.stdout(), /^\S+Z {2}stream\.gap +- {2}\{"reason":"other-boot"/m);
    assert.equal(await human.stop(), 0, human.stderr());
    assert.equal(await raw.stop(), 0, raw.stderr());
  });
});

describe('vigocli audit', () => {
  it('lists entries, verifies the chain, and exits 1 naming the entry when it was tampered with', async () => {
    const [table, filtered, verified] = await Promise.all([
      vigocli(['audit', 'list', '--limit', '2']),
      vigocli(['audit', 'list', '--action', 'envoy.enrolled', '--json']),
      vigocli(['audit', 'verify']),
    ]);
    assert.match(ok(table).stdout, /^SEQ\s+AT\s+ACTOR\s+ACTION\s+TARGET\s+DETAILS$/m);
    assert.match(table.stdout, /^\(older entries: add --before \d+\)$/m);
    const enrolled = json<{ items: { action: string; target: string }[] }>(filtered);
    assert.deepEqual(
      enrolled.items.map((e) => e.target).sort(),
      [`envoy:${db.envoyId}`, `envoy:${web.envoyId}`].sort(),
    );
    assert.match(ok(verified).stdout, /^Audit chain intact: \d+ entries verified; head [0-9a-f]{64}\.$/m);

    const file = new Database(join(serverDir.path, 'db', 'vigo.db'));
    try {
      file.exec('DROP TRIGGER audit_log_no_update');
      file.prepare(`UPDATE audit_log SET details = '{"edited":true}' WHERE seq = 2`).run();
    } finally {
      file.close();
    }
    const broken = await vigocli(['audit', 'verify']);
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, /cli\.audit_chain_broken: the audit chain is broken at seq 2: /);
  });
});
