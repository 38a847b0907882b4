/**
 * Type=notify: vigosrv started with NOTIFY_SOCKET sends READY=1 once it serves and STOPPING=1 when
 * SIGTERM starts the drain, to a real Unix datagram socket (a path and an abstract name), through
 * systemd-notify. Skipped, saying why, without systemd-notify or python3 unless VIGO_REQUIRE_DEPLOY_TOOLS=1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ReadyServer } from '../helpers/server-process.ts';
import { makeTempDir, startServer } from '../helpers/server-process.ts';
import { hasAssignment, startNotifyReceiver } from './notify-receiver.ts';
import type { NotifyReceiver } from './notify-receiver.ts';
import { findTool, hasCapSysAdmin, toolsSkipReason } from './tools.ts';

const skip = toolsSkipReason({ 'systemd-notify': 'systemd', python3: 'python3' });
const temps: { remove(): void }[] = [];
const receivers: NotifyReceiver[] = [];
const servers: ReadyServer[] = [];

after(async () => {
  for (const server of servers) if (server.exitCode() === undefined) await server.stop();
  for (const receiver of receivers) await receiver.close();
  for (const temp of temps) temp.remove();
});

async function notifiedServer(address: string): Promise<{ server: ReadyServer; receiver: NotifyReceiver }> {
  const python = findTool('python3');
  assert.ok(python, 'python3 is not installed');
  const receiver = await startNotifyReceiver(python, address);
  receivers.push(receiver);
  const data = makeTempDir('vigo-sd-notify-');
  temps.push(data);
  const server = await startServer({ dataDir: data.path, env: { NOTIFY_SOCKET: address } });
  servers.push(server);
  return { server, receiver };
}

async function checkReadyAndStopping(server: ReadyServer, receiver: NotifyReceiver): Promise<void> {
  const ready = await receiver.waitFor('READY=1');
  const pid = server.child.pid;
  assert.ok(hasAssignment(ready, `MAINPID=${pid}`), `MAINPID names the server: ${ready.data}`);
  assert.match(
    ready.data,
    new RegExp(`^STATUS=serving: API port ${server.apiPort}, agent port ${server.grpcPort}$`, 'm'),
  );
  // With CAP_SYS_ADMIN a process may send another's credentials: systemd-notify then sends the server's.
  if (hasCapSysAdmin()) assert.equal(ready.pid, pid);
  const readyz = await server.request('/readyz');
  assert.equal(readyz.status, 200);
  assert.equal(
    receiver.datagrams.some((d) => hasAssignment(d, 'STOPPING=1')),
    false,
    'no STOPPING=1 before the stop signal',
  );

  server.child.kill('SIGTERM');
  const stopping = await receiver.waitFor('STOPPING=1');
  assert.match(stopping.data, /^STATUS=draining after SIGTERM$/m);
  assert.equal(await server.exited(), 0);
  assert.ok(server.logs.some((line) => line.msg === 'stopped'));
  assert.equal(
    server.logs.some((line) => line.msg === 'service manager notification failed'),
    false,
    server.stderr(),
  );
}

describe('Type=notify readiness and stopping (NOTIFY_SOCKET)', { skip }, () => {
  it('sends READY=1 once it serves and STOPPING=1 on SIGTERM to a socket path', async () => {
    const dir = makeTempDir('vigo-notify-sock-');
    temps.push(dir);
    const { server, receiver } = await notifiedServer(join(dir.path, 'notify'));
    await checkReadyAndStopping(server, receiver);
  });

  it('does the same on an abstract socket ("@name")', async () => {
    const { server, receiver } = await notifiedServer(`@vigo-notify-test-${randomBytes(6).toString('hex')}`);
    await checkReadyAndStopping(server, receiver);
  });

  it('starts, warns and sends nothing when NOTIFY_SOCKET is not a socket address', async () => {
    const data = makeTempDir('vigo-sd-notify-');
    temps.push(data);
    const server = await startServer({ dataDir: data.path, env: { NOTIFY_SOCKET: 'relative/notify' } });
    servers.push(server);
    const warning = server.logs.find((line) => line.msg === 'service manager notifications are off');
    assert.ok(warning, server.stderr());
    assert.match(String(warning['reason']), /neither an absolute socket path nor an abstract name/);
    assert.equal(await server.stop(), 0);
  });
});
