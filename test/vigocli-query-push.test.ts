/**
 * `vigocli traits livequery` and `vigocli push` (the real bin/vigocli) against a real vigosrv with
 * protocol-level agents holding AgentStreams: the value table and the hosts that did not answer, Vigo's
 * `traits livequery <uuid> <trait.path>` form, the push summary and the ForcePush it delivers, and the
 * exit codes for a usage error, a refusal and a viewer.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveQueryAnswer, PushAnswer } from '../server/orchestration/index.ts';
import { createEnrollToken, enrollAgent } from './helpers/agent-client.ts';
import { waitFor } from './helpers/deadline.ts';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { StreamAgent } from './helpers/stream-agent.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-cliq-srv-');
const home = makeTempDir('vigo-cliq-home-');
let server: ReadyServer;
let web1: StreamAgent;
let web2Id: string;
let viewerToken: string;

function vigocli(args: string[]): Promise<CliRun> {
  return runVigocli(
    ['--server', server.apiUrl, '--data-dir', serverDir.path, ...args],
    cleanCliEnv(home.path, { XDG_CONFIG_HOME: join(home.path, 'config') }),
    home.path,
  );
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  return run;
}

before(async () => {
  server = await startServer({ dataDir: serverDir.path });
  const token = await createEnrollToken(server, ['web-*'], 5);
  const [one, two] = await Promise.all([
    enrollAgent(server, token, 'web-01'),
    enrollAgent(server, token, 'web-02'),
  ]);
  web2Id = two.envoyId;
  web1 = new StreamAgent(server, one, undefined, (path) =>
    path === 'os.version' ? '"24.04"' : { error: `no trait ${path}` },
  );
  await web1.connect();
  await waitFor('the stream of web-01 to be open', async () => {
    const run = await vigocli(['traits', 'livequery', 'web-01', 'os.version', '--json']);
    return (JSON.parse(ok(run).stdout) as LiveQueryAnswer).answered === 1 ? true : undefined;
  });
  ok(await vigocli(['webusers', 'create', '--username', 'vic', '--role', 'viewer']));
  const created = ok(await vigocli(['tokens', 'create', '--name', 'v', '--user', 'vic', '--json']));
  viewerToken = (JSON.parse(created.stdout) as { token: string }).token;
});

after(async () => {
  await web1?.disconnect();
  await server?.stop();
  serverDir.remove();
  home.remove();
});

describe('vigocli traits livequery', () => {
  it('prints the value table and the hosts that did not answer', async () => {
    const run = ok(await vigocli(['traits', 'livequery', 'web-*', 'os.version', '--raw', '5']));
    assert.match(run.stdout, /^os\.version on 2 envoys: 1 answered, 1 not answered/m);
    assert.match(run.stdout, /^COUNT {2}VALUE\n1 {6}"24\.04"$/m);
    assert.match(run.stdout, /^Raw values \(first 1\):\nHOSTNAME {2}VALUE\nweb-01 {4}"24\.04"$/m);
    assert.match(run.stdout, new RegExp(`^Not answered \\(1\\):\\n.*\\nweb-02 +${web2Id} +offline$`, 'm'));
  });

  it("keeps Vigo's form, an envoy id and a trait path, and answers JSON for scripts", async () => {
    const run = ok(await vigocli(['traits', 'livequery', web1.envoyId, 'os.version', '--json']));
    const answer = JSON.parse(run.stdout) as LiveQueryAnswer;
    assert.deepEqual(answer.values, [{ value: '24.04', count: 1 }]);
    const failed = ok(await vigocli(['traits', 'livequery', 'web-01', 'nosuch.trait']));
    assert.match(
      failed.stdout,
      /^Could not read the trait \(1\):\nHOSTNAME {2}ERROR\nweb-01 {4}no trait nosuch\.trait$/m,
    );
  });

  it('exits 2 on a usage error, 1 on a refusal and 4 for a viewer', async () => {
    const short = await vigocli(['traits', 'livequery', 'os.version']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /needs TRAIT\.PATH/);
    const deadline = await vigocli(['traits', 'livequery', 'web-*', 'os.version', '--deadline', '90s']);
    assert.equal(deadline.code, 2);
    assert.match(deadline.stderr, /--deadline must be whole seconds from 1s to 60s/);
    const bad = await vigocli(['traits', 'livequery', 'web-*', 'os..version']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /query\.trait_path_invalid/);
    const viewer = await vigocli(['--token', viewerToken, 'traits', 'livequery', 'web-*', 'os.version']);
    assert.equal(viewer.code, 4);
  });
});

describe('vigocli push', () => {
  it('tells the online envoy to check in now and the other at its next check-in', async () => {
    const run = ok(await vigocli(['push', 'web-01', 'web-02', '--reason', 'cli test']));
    assert.match(run.stdout, /^Force-push to 2 envoys: 1 checking in now, 1 get their full bundle/m);
    assert.match(run.stdout, /^web-01 +\S+ +checking in now$/m);
    assert.match(run.stdout, /^web-02 +\S+ +at its next check-in$/m);
    const push = await waitFor('the ForcePush to reach web-01', () =>
      web1.received.find((m) => m.kind.case === 'forcePush'),
    );
    assert.equal(push.kind.case === 'forcePush' && push.kind.value.reason, 'cli test');
    const json = JSON.parse(ok(await vigocli(['push', 'web-02', '--json'])).stdout) as PushAnswer;
    assert.deepEqual(json, {
      targeted: 1,
      pushedNow: [],
      atNextCheckin: [{ envoyId: web2Id, hostname: 'web-02' }],
    });
  });

  it('exits 1 when the targets select nobody and 4 for a viewer, pushing nothing', async () => {
    const before = web1.received.length;
    const nobody = await vigocli(['push', 'web-*', '--where', 'os.family=none']);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /orchestration\.targets_empty/);
    const viewer = await vigocli(['--token', viewerToken, 'push', 'web-01']);
    assert.equal(viewer.code, 4);
    const usage = await vigocli(['push']);
    assert.equal(usage.code, 2);
    assert.equal(web1.received.length, before);
  });
});
