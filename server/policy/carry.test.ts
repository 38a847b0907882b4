import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CompileCarry } from './carry.ts';
import { stackLimits } from './limits.ts';
import { encodeSnapshot } from './snapshot-encoded.ts';
import { testOptions, writeStack } from './testing.ts';
import type { ValidateOptions, ValidateResult } from './types.ts';
import { validateStacks } from './validate.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function stack(files: Record<string, string>): string {
  const dir = writeStack(files);
  dirs.push(dir);
  return dir;
}

function write(dir: string, rel: string, text: string): void {
  fs.writeFileSync(path.join(dir, rel), text);
}

/** What a validation answers, as one comparable value: diagnostics, hash and the stored body. */
function outcome(r: ValidateResult): string {
  const body = r.snapshot === undefined ? null : encodeSnapshot(r.snapshot).body.toString('utf8');
  return JSON.stringify({ diagnostics: r.diagnostics, hash: r.snapshot?.hash ?? null, body });
}

/** Validates with the carry and from scratch; both must answer the same. */
async function both(
  dir: string,
  carry: CompileCarry,
  options: Partial<ValidateOptions> = {},
): Promise<ValidateResult> {
  const carried = await validateStacks(dir, { ...testOptions, ...options, carry });
  const fresh = await validateStacks(dir, { ...testOptions, ...options });
  assert.equal(outcome(carried), outcome(fresh));
  return carried;
}

const files = {
  'configcrates/web.vgo': `name: web
resources:
  - name: conf
    type: file
    target_path: /etc/web.conf
    content: "tag = {{ .Vars.tag }}"
  - name: motd
    type: file
    target_path: /etc/motd
    source: templates/motd.tmpl
`,
  'configcrates/base.vgo': `name: base
resources:
  - name: dir
    type: directory
    target_path: /srv/base
`,
  'templates/motd.tmpl': 'welcome to {{ .Vars.site }}\n',
  'common.vgo': 'vars:\n  site: lab\n  tag: none\n',
  'envoys.vgo': `envoys:
  - match: "a.example.com"
    configcrates: [web, base]
    vars: { tag: a }
  - match: "b.example.com"
    configcrates: [web, base]
    vars: { tag: b }
`,
};

describe('carry between validations', () => {
  it('answers exactly as a validation from scratch after each kind of edit', async () => {
    const dir = stack(files);
    const carry = new CompileCarry();
    const first = await both(dir, carry);
    assert.ok(first.snapshot);

    // A source: template changes while the configcrate file that names it does not.
    write(dir, 'templates/motd.tmpl', 'welcome to {{ .Vars.site }}, be nice\n');
    const sourceEdited = await both(dir, carry);
    assert.notEqual(sourceEdited.snapshot?.hash, first.snapshot.hash);

    write(dir, 'configcrates/base.vgo', files['configcrates/base.vgo'].replace('/srv/base', '/srv/base2'));
    await both(dir, carry);
    write(dir, 'envoys.vgo', files['envoys.vgo'].replace('tag: b', 'tag: b2'));
    await both(dir, carry);
    write(dir, 'common.vgo', 'vars:\n  site: prod\n  tag: none\n');
    await both(dir, carry);

    // The source: file goes away: reported at the configcrate that names it, though that file is unchanged.
    fs.rmSync(path.join(dir, 'templates/motd.tmpl'));
    const missing = await both(dir, carry);
    assert.ok(missing.diagnostics.some((d) => d.code === 'source.missing'));
  });

  it('takes unchanged definitions and instances as they are', async () => {
    const dir = stack(files);
    const carry = new CompileCarry();
    const first = await validateStacks(dir, { ...testOptions, carry });
    const again = await validateStacks(dir, { ...testOptions, carry });
    assert.ok(first.snapshot && again.snapshot);
    assert.equal(carry.instances.size, 3);
    for (const [hash, instance] of again.snapshot.instances)
      assert.equal(instance, first.snapshot.instances.get(hash), `instance ${hash} compiled again`);
  });

  it('checks secret references against the provider on every validation', async () => {
    const dir = stack({
      'configcrates/db.vgo':
        'name: db\nresources:\n  - name: dsn\n    type: file\n    target_path: /etc/dsn\n    content: "secret:vigo/db/dsn"\n',
      'envoys.vgo': 'envoys:\n  - match: "db.example.com"\n    configcrates: [db]\n',
    });
    const carry = new CompileCarry();
    const known = await both(dir, carry, { secretExists: () => true });
    assert.ok(known.snapshot);
    const gone = await both(dir, carry, { secretExists: () => false });
    assert.ok(gone.diagnostics.some((d) => d.code === 'secret.unresolved' && d.severity === 'error'));
    assert.equal(gone.snapshot, undefined);
  });

  it('compiles again when the guardrail settings change', async () => {
    const dir = stack(files);
    const carry = new CompileCarry();
    assert.ok((await both(dir, carry)).snapshot);
    const guarded = await both(dir, carry, { protectedPaths: ['/srv/base'] });
    assert.ok(guarded.diagnostics.some((d) => d.code === 'guard.protected_path'));
    assert.equal(guarded.snapshot, undefined);
  });

  it('counts carried instances against the resource limit of the whole validation', async () => {
    const per = stackLimits.foreachMaxItems;
    const crates = Math.ceil(stackLimits.compileMaxResources / per) + 1;
    const tree: Record<string, string> = {
      'common.vgo': `vars:\n  items: [${Array.from({ length: per }, (_, i) => `i${i}`).join(', ')}]\n`,
    };
    const names = Array.from({ length: crates }, (_, i) => `c${i}`);
    for (const name of names)
      tree[`configcrates/${name}.vgo`] =
        `name: ${name}\nresources:\n  - name: "p-{{ .Item }}"\n    type: package\n    package: "{{ .Item }}"\n    foreach: items\n`;
    tree['envoys.vgo'] = `envoys:\n  - match: "*"\n    configcrates: [${names.join(', ')}]\n`;
    const dir = stack(tree);
    const carry = new CompileCarry();
    for (let round = 0; round < 2; round++) {
      const r = await validateStacks(dir, { ...testOptions, carry });
      assert.ok(
        r.diagnostics.some((d) => d.code === 'compile.too_many_resources' && d.severity === 'error'),
        `round ${round}`,
      );
      assert.equal(r.snapshot, undefined);
    }
    assert.ok(carry.instances.size > 0, 'the instances under the limit were carried');
  });
});
