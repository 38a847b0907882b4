/**
 * Tampering with the end of the audit chain in a real vigosrv's SQLite file: deleting the newest entries,
 * appending a forged entry with a correctly computed hash, deleting the recorded head. Each stays visible
 * to verify through audited actions and restarts (which used to link past it), raises the alarm (event,
 * error log, metric), refuses audited actions with audit.chain_broken while check-ins, reads and /healthz
 * carry on, and is recorded in the chain for good by the re-anchoring that recovers from it.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnvelopeClock, errorCodeOf, signRequest } from '../protocol/index.ts';
import { canonicalJson, computeAuditHash } from '../server/audit/index.ts';
import { agentClient, createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import type { EnrolledAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { HttpsResponse } from './helpers/https-client.ts';
import type { LogLine, ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';

const temp = makeTempDir('vigo-audit-chain-');
const dbFile = join(temp.path, 'db', 'vigo.db');
let server: ReadyServer;
let agent: EnrolledAgent;
const clock = createEnvelopeClock();

after(async () => {
  await server?.stop();
  temp.remove();
});

before(async () => {
  server = await startServer({ dataDir: temp.path });
  agent = await enrollAgent(
    server,
    await createEnrollToken(server, ['web-*.example.com']),
    'web-1.example.com',
  );
});

function adminHeaders(): Record<string, string> {
  const token = readFileSync(join(temp.path, 'local-admin.token'), 'utf8').trim();
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

function call(path: string, method = 'GET', body?: unknown): Promise<HttpsResponse> {
  return server.request(path, {
    method,
    headers: adminHeaders(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function restart(): Promise<void> {
  assert.equal(await server.stop(), 0);
  server = await startServer({ dataDir: temp.path });
}

type Kind = 'delete-newest' | 'append-forged' | 'delete-head';

/** What an attacker with the database file does, while the server runs (WAL lets a second writer in). */
function tamper(kind: Kind): void {
  const db = new Database(dbFile);
  try {
    db.pragma('busy_timeout = 5000');
    const last = db
      .prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')
      .get();
    assert.ok(last && last.seq > 3);
    db.exec('DROP TRIGGER audit_log_no_delete');
    if (kind === 'delete-newest') db.prepare('DELETE FROM audit_log WHERE seq > ?').run(last.seq - 2);
    if (kind === 'delete-head') db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
    if (kind === 'append-forged') {
      const entry = {
        seq: last.seq + 1,
        at: Date.now(),
        actor: 'user:admin',
        action: 'user.deleted',
        target: 'x',
      };
      const details = { note: 'forged' };
      db.prepare(
        'INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        ...Object.values(entry),
        canonicalJson(details),
        last.hash,
        computeAuditHash(last.hash, { ...entry, details }),
      );
    }
    db.exec(`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted'); END`);
  } finally {
    db.close();
  }
}

/** Events of the audit family as ndjson, from the moment it opens. */
interface Follower {
  readonly events: { type: string; data: Record<string, unknown> }[];
  readonly opened: () => boolean;
  close(): void;
}

async function followAuditEvents(): Promise<Follower> {
  const events: Follower['events'] = [];
  let buffer = '';
  let opened = false;
  const req: ClientRequest = request(
    `${server.apiUrl}/api/v1/events?types=audit.*`,
    { ca: server.ca, headers: { ...adminHeaders(), accept: 'application/x-ndjson' }, agent: false },
    (res) => {
      opened = res.statusCode === 200;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line) as (typeof events)[0]);
      });
    },
  );
  req.on('error', () => {});
  req.end();
  await waitFor('the event stream to open', () => (opened ? true : undefined));
  return { events, opened: () => opened, close: () => req.destroy() };
}

async function metric(name: string): Promise<number> {
  const reply = await call('/metrics');
  assert.equal(reply.status, 200);
  const line = reply.body.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

async function verify(): Promise<{
  ok: boolean;
  reason?: string;
  reanchored?: { problem: string; reason: string }[];
}> {
  const reply = await call('/api/v1/audit/verify');
  assert.equal(reply.status, 200, reply.body);
  return reply.json();
}

/** A log line written after `mark` (an index into server.logs): earlier ones belong to another step. */
function logAfter(mark: number, what: string, match: (line: LogLine) => boolean): Promise<LogLine> {
  return waitFor(what, () => server.logs.slice(mark).find(match));
}

const isAlarm = (line: LogLine): boolean =>
  line.level === 'error' && /^the audit chain is broken/.test(line.msg);

async function assertRefused(username: string): Promise<void> {
  const created = await call('/api/v1/users', 'POST', { username, role: 'viewer' });
  assert.equal(created.status, 412, created.body);
  assert.equal(created.json<{ code: string }>().code, 'audit.chain_broken');
  const users = await call('/api/v1/users');
  assert.ok(!users.body.includes(username), 'the refused change was applied anyway');
}

async function assertStillServing(): Promise<void> {
  assert.equal((await server.request('/healthz')).status, 200);
  assert.equal((await call('/api/v1/audit?limit=5')).status, 200);
  const client = agentClient(server, agent);
  try {
    const reply = await client.methods.checkIn(
      signRequest('CheckIn', agent.signingKey, agent.envoyId, Number(clock()), {
        agentVersion: 'test',
        hostname: agent.hostname,
      }),
    );
    assert.ok(reply.outcome.case !== undefined, 'check-in answered');
    // A secret outside the envoy's bundle is still refused with the code the agent acts on, although the
    // refusal cannot be audited while the chain is broken.
    const refused = await client.methods
      .resolveSecrets(
        signRequest('ResolveSecrets', agent.signingKey, agent.envoyId, Number(clock()), {
          refs: ['vigo/not/in/the/bundle'],
        }),
      )
      .then(
        () => undefined,
        (err: unknown) => errorCodeOf(err as { details?: unknown; metadata?: unknown }),
      );
    assert.equal(refused, 'secrets.not_entitled');
  } finally {
    client.close();
  }
}

describe('a running server whose audit chain is tampered with at the end', () => {
  for (const kind of ['delete-newest', 'append-forged', 'delete-head'] as const) {
    it(`${kind}: stays detected, alarms, refuses audited actions, keeps serving; re-anchoring recovers`, async () => {
      await call('/api/v1/users', 'POST', { username: `before-${kind}`, role: 'viewer' });
      const stream = await followAuditEvents();
      try {
        assert.equal(await metric('vigo_audit_chain_broken'), 0);
        const mark = server.logs.length;
        tamper(kind);
        await assertRefused(`after-${kind}`);
        const alarm = await waitFor('the audit.chain_broken event', () =>
          stream.events.find((e) => e.type === 'audit.chain_broken'),
        );
        assert.equal(typeof alarm.data['problem'], 'string');
        await logAfter(mark, 'the alarm at error level', isAlarm);
        assert.equal(await metric('vigo_audit_chain_broken'), 1);
        assert.ok((await metric('vigo_audit_appends_refused_total')) >= 1);
        const broken = await verify();
        assert.equal(broken.ok, false);
        await assertStillServing();
      } finally {
        stream.close();
      }

      // A restart writes server.start: it used to link past the damage and make verify say ok.
      await restart();
      assert.equal((await verify()).ok, false, 'the restart hid the damage');
      await server.waitForLog('the start-up alarm', isAlarm);
      await server.waitForLog('server.start left out', (l) => /not recorded in the audit log/.test(l.msg));
      await assertRefused(`restarted-${kind}`);
      await assertStillServing();

      const events = await followAuditEvents();
      try {
        assert.equal(await metric('vigo_audit_chain_broken'), 1);
        const reason = `${kind}: restored what we could, incident 42`;
        const anchored = await call('/api/v1/audit/reanchor', 'POST', { reason });
        assert.equal(anchored.status, 200, anchored.body);
        const entry = anchored.json<{ action: string; details: { problem: string; reason: string } }>();
        assert.equal(entry.action, 'audit.reanchored');
        await waitFor('the audit.reanchored event', () =>
          events.events.find((e) => e.type === 'audit.reanchored'),
        );
        const recovered = await verify();
        assert.equal(recovered.ok, true, JSON.stringify(recovered));
        const note = recovered.reanchored?.at(-1);
        assert.deepEqual(
          [note?.problem, note?.reason],
          [entry.details.problem, reason],
          'the break stays on record',
        );
        assert.equal(
          (await call('/api/v1/users', 'POST', { username: `recovered-${kind}`, role: 'viewer' })).status,
          201,
        );
        assert.equal(await metric('vigo_audit_chain_broken'), 0);
        assert.equal(
          (await call('/api/v1/audit/reanchor', 'POST', { reason })).status,
          409,
          'an intact chain is not re-anchored',
        );
      } finally {
        events.close();
      }
    });
  }
});
