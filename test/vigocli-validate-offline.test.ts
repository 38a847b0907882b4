/**
 * `vigocli config validate --offline` with no server running and no credentials anywhere: the real
 * bin/vigocli, the demo stacks and a broken tree, in text, JSON and SARIF, and the documented exit codes.
 * A listener stands where a server would be, to prove that --offline never connects.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, repoRoot } from './helpers/server-process.ts';
import { cleanCliEnv, runVigocli } from './helpers/vigocli.ts';
import type { CliRun } from './helpers/vigocli.ts';

const home = makeTempDir('vigo-validate-home-');
const broken = makeTempDir('vigo-validate-broken-');
const demo = join(repoRoot, 'policies', 'demo');
let listener: net.Server;
let connections = 0;
let port = 0;

before(async () => {
  mkdirSync(join(broken.path, 'configcrates'));
  writeFileSync(join(broken.path, 'envoys.vgo'), 'envoys:\n  - match: "*"\n    configcrates: [app]\n');
  writeFileSync(
    join(broken.path, 'configcrates', 'app.vgo'),
    [
      'name: app',
      'resources:',
      '  - name: a',
      '    type: file',
      '    path: /tmp/a',
      '    content: "secret:vigo/not-in-any-vault"',
      '    depends_on: [b]',
      '  - name: b',
      '    type: file',
      '    path: /tmp/b',
      '    content: y',
      '    depends_on: [a]',
      '  - name: c',
      '    type: file',
      '    path: /tmp/c',
      '    bogus: 1',
      '',
    ].join('\n'),
  );
  listener = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  home.remove();
  broken.remove();
});

/** vigocli with an empty HOME and config dir, pointed at a listener that is not a server. */
function vigocli(args: string[]): Promise<CliRun> {
  const env = cleanCliEnv(home.path, { XDG_CONFIG_HOME: join(home.path, 'config') });
  return runVigocli(['--server', `https://127.0.0.1:${port}`, ...args], env, home.path);
}

interface SarifLog {
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string }[] } };
    originalUriBaseIds: Record<string, { uri: string }>;
    invocations: { toolExecutionNotifications: { descriptor: { id: string } }[] }[];
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: {
        physicalLocation: {
          artifactLocation: { uri: string; uriBaseId: string };
          region: { startLine: number; startColumn: number };
        };
      }[];
    }[];
  }[];
}

describe('vigocli config validate --offline', () => {
  it('validates the demo stacks without a server or credentials: exit 0, skipped checks named', async () => {
    const run = await vigocli(['config', 'validate', '--offline', demo]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /: valid \(/);
    assert.match(run.stdout, /^note: skipped secret\.unresolved: /m);
    assert.equal(connections, 0, 'offline validation connected to the configured server');
  });

  it('prints every problem at once on stdout as FILE:LINE:COL and exits 1', async () => {
    const run = await vigocli(['config', 'validate', '--offline', broken.path]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /^configcrates\/app\.vgo:3:5: error dag\.cycle: dependency cycle/m);
    assert.match(run.stdout, /^configcrates\/app\.vgo:16:5: error schema\.unknown_key: /m);
    assert.doesNotMatch(run.stdout, /secret\.unresolved: resource/, 'secret references are skipped offline');
    assert.match(run.stderr, /publish\.stacks_invalid/);
    assert.equal(connections, 0);
  });

  it('--format json: ok, counts, diagnostics and the skipped checks', async () => {
    const run = await vigocli(['config', 'validate', '--offline', '--format', 'json', broken.path]);
    assert.equal(run.code, 1);
    const out = JSON.parse(run.stdout) as {
      ok: boolean;
      errors: number;
      warnings: number;
      diagnostics: { code: string; file: string; line: number; col: number; severity: string }[];
      skipped: { check: string; reason: string }[];
    };
    assert.equal(out.ok, false);
    assert.equal(out.errors, 2);
    assert.deepEqual(
      out.diagnostics.map((d) => `${d.severity} ${d.code} ${d.file}:${d.line}:${d.col}`),
      ['error dag.cycle configcrates/app.vgo:3:5', 'error schema.unknown_key configcrates/app.vgo:16:5'],
    );
    assert.deepEqual(
      out.skipped.map((s) => s.check),
      ['secret.unresolved', 'guard.protected_path', 'url.unreachable'],
    );
    const clean = await vigocli(['config', 'validate', '--offline', '--json', demo]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal((JSON.parse(clean.stdout) as { ok: boolean }).ok, true);
  });

  it('--format sarif: SARIF 2.1.0 with rule ids = codes and relative locations', async () => {
    const run = await vigocli(['config', 'validate', '--offline', '--format', 'sarif', broken.path]);
    assert.equal(run.code, 1);
    const log = JSON.parse(run.stdout) as SarifLog;
    assert.equal(log.version, '2.1.0');
    const [sarifRun] = log.runs;
    assert.ok(sarifRun);
    assert.equal(sarifRun.tool.driver.name, 'vigocli');
    assert.deepEqual(
      sarifRun.tool.driver.rules.map((r) => r.id),
      ['dag.cycle', 'schema.unknown_key'],
    );
    assert.match(sarifRun.originalUriBaseIds.STACKS!.uri, /^file:\/\/\/.*\/$/);
    const results = sarifRun.results.map((r) => {
      const loc = r.locations[0]!.physicalLocation;
      assert.equal(sarifRun.tool.driver.rules[r.ruleIndex]!.id, r.ruleId);
      assert.equal(loc.artifactLocation.uriBaseId, 'STACKS');
      return `${r.level} ${r.ruleId} ${loc.artifactLocation.uri}:${loc.region.startLine}:${loc.region.startColumn}`;
    });
    assert.deepEqual(results, [
      'error dag.cycle configcrates/app.vgo:3:5',
      'error schema.unknown_key configcrates/app.vgo:16:5',
    ]);
    assert.deepEqual(
      sarifRun.invocations[0]!.toolExecutionNotifications.map((n) => n.descriptor.id),
      ['secret.unresolved', 'guard.protected_path', 'url.unreachable'],
    );
  });

  it('refuses an unknown format and a missing directory as usage errors (exit 2)', async () => {
    const format = await vigocli(['config', 'validate', '--offline', '--format', 'xml', demo]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be one of text, json, sarif/);
    const missing = await vigocli(['config', 'validate', '--offline', join(home.path, 'nowhere')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /is not a directory of stacks/);
    assert.equal(connections, 0);
  });

  it('without --offline needs the server: one it cannot use is exit 3, naming --offline', async () => {
    const run = await vigocli(['--token', 'vgot_not-a-real-token', 'config', 'validate', demo]);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      /^vigocli: cli\.unreachable: .*; to validate without a server: vigocli config validate --offline /m,
    );
    assert.equal(run.stdout, '', 'no diagnostics: nothing was validated');
  });
});
