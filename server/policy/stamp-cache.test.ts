import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorsOf, validateFiles } from './testing.ts';
import type { CompiledSnapshot } from './types.ts';

// One resource reads a per-host variable; the other two read none or a shared one.
const crate = `name: app
vars:
  tag: none
  port: "80"
resources:
  - name: conf
    type: file
    target_path: /etc/app.conf
    content: "tag={{ .Vars.tag }}"
  - name: pkg
    type: package
    package: app
  - name: ports
    type: file
    target_path: /etc/app.port
    content: "port={{ .Vars.port }}"
`;

const entry = (host: string, tag: string): string =>
  `  - match: ${host}\n    configcrates: [app]\n    vars: { tag: "${tag}" }\n`;

async function compile(hosts: [string, string][]): Promise<CompiledSnapshot> {
  const result = await validateFiles({
    'configcrates/app.vgo': crate,
    'envoys.vgo': `envoys:\n${hosts.map(([h, t]) => entry(h, t)).join('')}`,
  });
  assert.deepEqual(errorsOf(result), []);
  return result.snapshot!;
}

function instanceOf(snap: CompiledSnapshot, host: string) {
  return snap.instances.get(snap.matchEntry(host)!.configcrates[0]!.instance)!;
}

describe('work shared between configcrate instances of one compile', () => {
  it('stamps a resource once for the values it reads, and compiles each instance as if alone', async () => {
    const hosts: [string, string][] = [
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'z'],
    ];
    const together = await compile(hosts);
    const [a, b, c] = hosts.map(([h]) => instanceOf(together, h));
    assert.equal(new Set([a!.hash, b!.hash, c!.hash]).size, 3);
    // The resources that read no per-host variable are stamped once: their params are one object.
    const params = (i: typeof a, name: string) => i!.resources.find((r) => r.name === name)!.params;
    assert.equal(params(a, 'pkg'), params(b, 'pkg'));
    assert.equal(params(b, 'ports'), params(c, 'ports'));
    assert.notEqual(params(a, 'conf'), params(b, 'conf'));
    assert.deepEqual(params(c, 'conf'), { content: 'tag=z', target_path: '/etc/app.conf' });
    // Each host compiled on its own gives the same instance, origins included.
    for (const [host, tag] of hosts) {
      const alone = instanceOf(await compile([[host, tag]]), host);
      assert.deepEqual(
        JSON.parse(JSON.stringify(alone)),
        JSON.parse(JSON.stringify(instanceOf(together, host))),
      );
    }
  });

  it('reports again, for every instance, what stamping a resource reported', async () => {
    const result = await validateFiles({
      'configcrates/ops.vgo': `name: ops
vars:
  tag: none
resources:
  - name: restart
    type: exec
    command: systemctl restart vigosrv.service
  - name: conf
    type: file
    target_path: /etc/ops.conf
    content: "{{ .Vars.tag }}"
`,
      'envoys.vgo': `envoys:\n${entry('a', 'x').replace('app', 'ops')}${entry('b', 'y').replace('app', 'ops')}`,
    });
    const warning = result.diagnostics.filter((d) => d.code === 'guard.protected_exec');
    assert.equal(warning.length, 1);
    assert.match(warning[0]!.message, /for 2 match entries/);
  });
});
