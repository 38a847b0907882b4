/**
 * TLS session resumption on the agent port is an optimisation, never a way around who an envoy is. Real
 * server start-up in this process, two envoys enrolled with the reference agent, and the agent's own
 * credentials and ServerLink, with the TLS session handed around on purpose:
 *
 * - a resumed session is bound to the certificate of the handshake that created it, and requests on it
 *   verify against that envoy (verify.ts reads the identity of resumed connections too);
 * - another envoy holding that session (ticket and secret) cannot act as itself on it: its requests meet
 *   the first envoy's certificate and are refused;
 * - a revoked envoy's resumed session is refused like a fresh one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServerLink } from '../agent/runtime/server-link.ts';
import type { CheckInInput } from '../agent/runtime/server-link.ts';
import type { LoadedIdentity } from '../agent/runtime/state-dir.ts';
import { TlsSessionCache, resumingCredentials } from '../agent/runtime/tls-session.ts';
import { createEnvelopeClock, errorCodeOf } from '../protocol/index.ts';
import { enrollReferenceAgent, startInProcessServer } from './helpers/in-process-server.ts';
import type { InProcessServer } from './helpers/in-process-server.ts';
import { makeTempDir } from './helpers/server-process.ts';

interface Envoy {
  readonly loaded: LoadedIdentity;
  readonly id: string;
  readonly clock: () => bigint;
}

const temp = makeTempDir('vigo-resume-');
let server: InProcessServer;
let alice: Envoy;
let bob: Envoy;

before(async () => {
  server = await startInProcessServer({
    dataDir: join(temp.path, 'server'),
    env: { VIGO_CHECKIN_CONNECTION: 'poll' },
  });
  const token = await server.enrollToken(['*.resume.example.com']);
  const enrolled = async (name: string): Promise<Envoy> => {
    const { loaded } = await enrollReferenceAgent(
      server,
      token,
      `${name}.resume.example.com`,
      join(temp.path, name),
    );
    return { loaded, id: loaded.identity.envoyId, clock: createEnvelopeClock() };
  };
  alice = await enrolled('alice');
  bob = await enrolled('bob');
});

after(async () => {
  await server.stop();
  temp.remove();
});

/**
 * A channel that signs as `signer` and connects with `tlsOf`'s key and certificate, offering the session
 * in `sessions`.
 */
function link(signer: Envoy, sessions: TlsSessionCache, tlsOf: Envoy = signer): ServerLink {
  const credentials = resumingCredentials({
    caPem: server.ca,
    keyPem: tlsOf.loaded.tlsKeyPem,
    certPem: tlsOf.loaded.tlsCertPem,
    host: '127.0.0.1',
    sessions,
  });
  return new ServerLink(signer.loaded, { credentials, clock: signer.clock });
}

function checkInAs(envoy: Envoy): CheckInInput {
  return {
    hostname: envoy.loaded.identity.hostname,
    policyVersion: 0,
    stateFingerprint: '',
    traitsHash: '',
    secretsEpoch: 0,
  };
}

/** One CheckIn on a new channel that is closed again; the code it was refused with, or 'ok'. */
async function checkInOnce(signer: Envoy, sessions: TlsSessionCache, tlsOf?: Envoy): Promise<string> {
  const channel = link(signer, sessions, tlsOf);
  try {
    await channel.checkIn(checkInAs(signer));
    return 'ok';
  } catch (err) {
    return errorCodeOf(err as Parameters<typeof errorCodeOf>[0]) ?? String(err);
  } finally {
    channel.close();
  }
}

/** A copy of `from`'s newest session: what a thief of the session (ticket and secret) would hold. */
function stolen(from: TlsSessionCache): TlsSessionCache {
  const copy = new TlsSessionCache();
  const session = from.current;
  assert.ok(session, 'there is a session to take');
  copy.remember(session);
  return copy;
}

describe('a resumed TLS session on the agent port', () => {
  it("is bound to the certificate of its first handshake: the envoy's requests verify on it", async () => {
    const sessions = new TlsSessionCache();
    assert.equal(await checkInOnce(alice, sessions), 'ok');
    assert.equal(await checkInOnce(alice, sessions), 'ok');
    assert.deepEqual(sessions.handshakes, { full: 1, resumed: 1 });
  });

  it("gives another envoy holding it only the first envoy's identity, never its own", async () => {
    const aliceSessions = new TlsSessionCache();
    assert.equal(await checkInOnce(alice, aliceSessions), 'ok');

    const bobWithAlices = stolen(aliceSessions);
    // Bob connects with his own key and certificate but offers Alice's session; the server resumes it.
    assert.equal(await checkInOnce(bob, bobWithAlices, bob), 'checkin.identity_mismatch');
    assert.deepEqual(bobWithAlices.handshakes, { full: 0, resumed: 1 });

    // Bob on his own session is fine: the refusal above was the borrowed session's certificate.
    assert.equal(await checkInOnce(bob, new TlsSessionCache()), 'ok');
  });

  it("refuses a revoked envoy's resumed session", async () => {
    const sessions = new TlsSessionCache();
    assert.equal(await checkInOnce(alice, sessions), 'ok');
    const revoked = await server.adminRequest(`/api/v1/envoys/${alice.id}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test' }),
    });
    assert.equal(revoked.status, 200, revoked.body);
    const resumedBefore = sessions.handshakes.resumed;
    assert.equal(await checkInOnce(alice, sessions), 'checkin.revoked');
    assert.equal(sessions.handshakes.resumed, resumedBefore + 1, 'the session did resume');
  });
});
