/**
 * The URL aliveness check at publish (server.yaml publish.url_check) and publish.protected_paths, through
 * the real bin/vigocli and a real vigosrv: a loopback HTTP server answers one URL, 404s another and
 * never answers a third; the dead ones are errors at their source: line, the live one is not, and a
 * server with the check turned off (an air-gapped site) probes nothing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReadyServer } from './helpers/server-process.ts';
import { makeTempDir, startServer } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';

const serverDir = makeTempDir('vigo-urlcheck-srv-');
const offDir = makeTempDir('vigo-urlcheck-off-');
const work = makeTempDir('vigo-urlcheck-work-');
let server: ReadyServer;
let offServer: ReadyServer;
let origin = '';
const hits: string[] = [];
const held = new Set<net.Socket>();
const site = http.createServer((req, res) => {
  hits.push(`${req.method} ${req.url}`);
  if (req.url === '/alive') res.writeHead(200).end('ok');
  else if (req.url === '/head-refused' && req.method === 'HEAD') res.writeHead(405).end();
  else if (req.url === '/head-refused') res.writeHead(200).end('ok');
  else if (req.url === '/slow')
    return; // never answers: the probe's timeout ends it
  else res.writeHead(404).end();
});
site.on('connection', (socket) => {
  held.add(socket);
  socket.once('close', () => held.delete(socket));
});

function writeStack(name: string, urls: string[], extra = ''): string {
  const dir = join(work.path, name);
  const resources = urls
    .map(
      (u, i) =>
        `  - name: f${i}\n    type: file\n    target_path: /tmp/vigo-urlcheck-${i}\n    source: ${origin}${u}\n`,
    )
    .join('');
  const files: Record<string, string> = {
    'configcrates/fetch.vgo': `name: fetch\nresources:\n${resources}${extra}`,
    'envoys.vgo': 'envoys:\n  - match: "*"\n    configcrates: [fetch]\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function cli(srv: ReadyServer, args: string[]) {
  return runVigocli(
    ['--server', srv.apiUrl, '--data-dir', srv.dataDir, ...args],
    cleanCliEnv(work.path),
    work.path,
  );
}

before(async () => {
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(site.address() as net.AddressInfo).port}`;
  [server, offServer] = await Promise.all([
    startServer({
      dataDir: serverDir.path,
      env: { VIGO_PUBLISH_URL_CHECK_TIMEOUT: '1s', VIGO_PUBLISH_PROTECTED_PATHS: '/opt/vigo-keep' },
    }),
    startServer({ dataDir: offDir.path, env: { VIGO_PUBLISH_URL_CHECK_ENABLED: 'false' } }),
  ]);
});

after(async () => {
  await Promise.all([server?.stop(), offServer?.stop()]);
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => site.close(() => resolve()));
  serverDir.remove();
  offDir.remove();
  work.remove();
});

describe('publish.url_check', () => {
  it('reports a 404 and a URL that never answers at their source: lines; a live URL passes', async () => {
    const dir = writeStack('mixed', ['/alive', '/gone', '/slow', '/head-refused']);
    const run = await cli(server, ['config', 'validate', dir]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^configcrates\/fetch\.vgo:10:13: error url\.unreachable: source: http:\/\/127\.0\.0\.1:\d+\/gone is not reachable \(HTTP 404\)/m,
    );
    assert.match(
      run.stdout,
      /^configcrates\/fetch\.vgo:14:13: error url\.unreachable: source: http:\/\/127\.0\.0\.1:\d+\/slow is not reachable \(no answer within 1000 ms\)/m,
    );
    assert.doesNotMatch(run.stdout, /\/alive is not reachable/);
    assert.doesNotMatch(run.stdout, /\/head-refused is not reachable/, 'a refused HEAD is retried as GET');
    assert.ok(hits.includes('GET /head-refused'));
  });

  it('refuses the publish itself, and publishes once every URL answers', async () => {
    const bad = await cli(server, ['config', 'publish', writeStack('bad', ['/gone'])]);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /error url\.unreachable: /);
    const good = await cli(server, ['config', 'publish', writeStack('good', ['/alive'])]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /Published version 2/);
  });

  it('probes nothing when publish.url_check.enabled is false', async () => {
    const before = hits.length;
    const run = await cli(offServer, ['config', 'validate', writeStack('off', ['/gone-offline'])]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(hits.length, before);
    assert.ok(!hits.some((h) => h.endsWith('/gone-offline')));
  });
});

describe('publish.protected_paths', () => {
  it('refuses a resource under a path server.yaml protects, with the setting named in the hint', async () => {
    const dir = writeStack(
      'guarded',
      [],
      '  - name: keep\n    type: file\n    target_path: /opt/vigo-keep/data.txt\n    content: x\n',
    );
    const run = await cli(server, ['config', 'validate', dir]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /error guard\.protected_path: .*inside the protected path \/opt\/vigo-keep/);
    assert.match(run.stdout, /hint: .*publish\.protected_paths/);
    const elsewhere = await cli(offServer, ['config', 'validate', dir]);
    assert.equal(elsewhere.code, 0, 'a server without the setting accepts it');
  });
});
