/**
 * The read-only probes of named queries, for real on this host: files hashed and looked up, a package
 * version from the dpkg database (checked against dpkg-query), processes by name and listening ports from
 * /proc; and named queries answered by LiveQueries from the definitions of the bundle the agent holds.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { LiveQuerySchema } from '../../protocol/index.ts';
import { silentLogger } from '../../server/core/index.ts';
import { createTraitCollector } from '../traits/index.ts';
import { LiveQueries } from './live-query.ts';
import type { QueryAnswer } from './live-query.ts';
import { dpkgVersion, listeningIn, runProbe } from './query-probes.ts';
import { parseStackQueries } from './stack-queries.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigo-probes-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('query probes', () => {
  it('file_sha256 hashes a file, answers null for a missing one and refuses a directory', async () => {
    const file = path.join(dir, 'sshd_config');
    fs.writeFileSync(file, 'PermitRootLogin no\n');
    const expected = createHash('sha256').update('PermitRootLogin no\n').digest('hex');
    assert.equal(await runProbe('file_sha256', { path: file }), expected);
    assert.equal(await runProbe('file_sha256', { path: path.join(dir, 'absent') }), null);
    await assert.rejects(runProbe('file_sha256', { path: dir }), /is not a regular file/);
  });

  it('file_exists says whether a path exists', async () => {
    assert.equal(await runProbe('file_exists', { path: dir }), true);
    assert.equal(await runProbe('file_exists', { path: path.join(dir, 'absent', 'deeper') }), false);
  });

  it('package_version reads the dpkg database as dpkg-query does', async () => {
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' });
    assert.equal(await runProbe('package_version', { name: 'bash' }), version);
    assert.equal(await runProbe('package_version', { name: 'no-such-package-vigo' }), null);
    const status =
      'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n' +
      'Package: here\nStatus: install ok installed\nDescription: x\n continued: line\nVersion: 2:3.4-1\n';
    assert.equal(dpkgVersion(status, 'gone'), null, 'removed packages are not installed');
    assert.equal(dpkgVersion(status, 'here'), '2:3.4-1');
    await assert.rejects(
      runProbe('package_version', { name: 'bash' }, { dpkgStatus: path.join(dir, 'no-status') }),
      /no dpkg database/,
    );
  });

  it('process_running counts processes by program name', async () => {
    const comm = fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
    assert.ok(((await runProbe('process_running', { name: comm })) as number) >= 1);
    assert.equal(await runProbe('process_running', { name: 'no-such-program-vigo' }), 0);
  });

  it('listening_ports lists the TCP ports something listens on', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const ports = (await runProbe('listening_ports', {})) as number[];
      assert.ok(ports.includes(port), `${port} in ${JSON.stringify(ports)}`);
      assert.deepEqual(
        ports,
        [...ports].sort((a, b) => a - b),
      );
    } finally {
      server.close();
    }
    const table =
      '  sl  local_address rem_address   st\n' +
      '   0: 0100007F:0016 00000000:0000 0A\n' +
      '   1: 0100007F:1F90 0100007F:C350 01\n';
    assert.deepEqual(listeningIn(table), [22]);
  });

  it('refuses arguments the catalogue does not allow, whatever the caller', async () => {
    await assert.rejects(runProbe('file_sha256', { path: 'relative' }), /not a valid path/);
    await assert.rejects(runProbe('file_sha256', { path: '/etc/../etc/shadow' }), /not a valid path/);
    await assert.rejects(runProbe('package_version', { name: 'bash; reboot' }), /not a valid name/);
    await assert.rejects(runProbe('listening_ports', { port: '22' }), /takes no argument "port"/);
  });
});

describe('named queries answered from the bundle', () => {
  const file = path.join(dir, 'motd');
  fs.writeFileSync(file, 'hello\n');
  const parsed = parseStackQueries({
    'motd-hash': { description: '', trait: null, probe: 'file_sha256', args: { path: file } },
    'os-name': { description: '', trait: 'os.name', probe: null, args: {} },
  });
  assert.ok('queries' in parsed);
  const traits = createTraitCollector({
    collectors: [
      { name: 'os', volatile: false, timeoutMs: 10_000, collect: async () => ({ os: { name: 'debian' } }) },
    ],
    env: { procRoot: dir },
  });
  const queries = new LiveQueries({ traits, log: silentLogger, stackQueries: () => parsed.queries });
  const ask = (queryName: string): Promise<QueryAnswer> =>
    new Promise((resolve) =>
      queries.answer(create(LiveQuerySchema, { queryId: randomUUID(), queryName }), resolve),
    );

  it('runs the probe or reads the trait the bundle defines for the name', async () => {
    const hash = await ask('motd-hash');
    assert.equal(hash.error, '');
    assert.equal(JSON.parse(hash.valueJson.toString()), createHash('sha256').update('hello\n').digest('hex'));
    const name = await ask('os-name');
    assert.equal(JSON.parse(name.valueJson.toString()), 'debian');
  });

  it('answers a name the bundle does not define with an error, running nothing', async () => {
    const answer = await ask('shadow-hash');
    assert.equal(answer.valueJson.length, 0);
    assert.equal(
      answer.error,
      'unknown query "shadow-hash": the bundle this agent holds defines motd-hash, os-name',
    );
  });

  it('refuses a bundle whose queries break the catalogue', () => {
    assert.deepEqual(parseStackQueries({ x: { trait: null, probe: 'run', args: {} } }), {
      problem: 'queries.x: has neither a trait nor a known probe',
    });
    assert.match(
      (
        parseStackQueries({ x: { trait: null, probe: 'file_sha256', args: { path: 'etc' } } }) as {
          problem: string;
        }
      ).problem,
      /not a valid path/,
    );
  });
});
