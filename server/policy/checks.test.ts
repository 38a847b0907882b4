import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { errorsOf, validateFiles } from './testing.ts';

const envoys = 'envoys:\n  - match: "*"\n    configcrates: [c]\n';

describe('secret references', () => {
  it('reports each unresolved reference where it is written, including inside strings', async () => {
    const r = await validateFiles(
      {
        'configcrates/c.vgo': `name: c
vars:
  dsn: "postgres://app:secret:vigo/db/pass@db/app"
resources:
  - name: env
    type: file
    target_path: /etc/app.env
    content: |
      A=1
      TOKEN=secret:vigo/api/token
`,
        'envoys.vgo': envoys,
      },
      { secretExists: (p) => p === 'vigo/db/pass' },
    );
    assert.deepEqual(errorsOf(r), ['secret.unresolved configcrates/c.vgo:10:13']);
  });

  it('replaces references by markers and records the paths an entry uses', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo':
        'name: c\nresources:\n  - { name: u, type: user, user: app, password: "secret:vigo/users/app" }\n',
      'envoys.vgo': envoys,
    });
    const s = r.snapshot!;
    const e = s.entries[0]!;
    assert.deepEqual(e.secretPaths, ['vigo/users/app']);
    assert.equal(
      s.instances.get(e.configcrates[0]!.instance)!.resources[0]!.params.password,
      '__VIGO_SECRET__vigo/users/app__END__',
    );
    assert.ok(!JSON.stringify(s.toJSON()).includes('secret:vigo'));
  });
});

describe('self-protection guardrails', () => {
  it('rejects resources on protected paths, their parents when removed, and protected units', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo': `name: c
resources:
  - { name: a, type: file, target_path: /var/lib/vigo/../vigo/db, content: x }
  - { name: b, type: directory, target_path: /var, state: absent }
  - { name: ok, type: directory, target_path: /var/lib/other }
  - { name: d, type: service, service: vigosrv, state: stopped }
`,
      'envoys.vgo': envoys,
    });
    assert.deepEqual(errorsOf(r), [
      'guard.protected_path configcrates/c.vgo:3:41',
      'guard.protected_path configcrates/c.vgo:4:46',
      'guard.protected_service configcrates/c.vgo:6:40',
    ]);
  });
});

describe('source: URL checks', () => {
  let server: http.Server;
  let base = '';

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end();
      else if (req.url === '/get-only') res.writeHead(req.method === 'HEAD' ? 405 : 200).end('body');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
  });

  const files = (): Record<string, string> => ({
    'configcrates/c.vgo': `name: c
resources:
  - { name: a, type: file, target_path: /a, source: "${base}/ok" }
  - { name: b, type: file, target_path: /b, source: "${base}/gone" }
  - { name: c, type: file, target_path: /c, source: "${base}/get-only" }
`,
    'envoys.vgo': envoys,
  });

  it('is off unless asked for', async () => {
    assert.deepEqual(errorsOf(await validateFiles(files())), []);
  });

  it('reports unreachable URLs with the HTTP status', async () => {
    const r = await validateFiles(files(), { checkUrls: { timeoutMs: 2000 } });
    assert.deepEqual(errorsOf(r), ['url.unreachable configcrates/c.vgo:4:53']);
    assert.match(r.diagnostics.find((d) => d.code === 'url.unreachable')!.message, /HTTP 404/);
  });
});

describe('configcrates no entry applies', () => {
  it('are still checked, without complaining about variables set elsewhere', async () => {
    const r = await validateFiles({
      'configcrates/c.vgo': 'name: c\nresources: []\n',
      'configcrates/spare.vgo': `name: spare
resources:
  - { name: a, type: file, target_path: "/etc/{{ .Vars.site }}", content: x }
  - { name: b, type: exec, command: "make" }
  - { name: c, type: directory, target_path: /srv/c, notify: [misssing] }
`,
      'envoys.vgo': envoys,
    });
    assert.deepEqual(errorsOf(r), [
      'exec.no_guard configcrates/spare.vgo:4:5',
      'ref.unknown configcrates/spare.vgo:5:63',
    ]);
    assert.match(r.diagnostics.find((d) => d.code === 'ref.unknown')!.hint, /use the name: of a resource/);
    assert.ok(r.diagnostics.some((d) => d.code === 'configcrate.unused' && d.severity === 'info'));
  });
});
