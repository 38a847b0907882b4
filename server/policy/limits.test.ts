/**
 * Every expansion budget of limits.ts answers with its own diagnostic at file:line:col instead of
 * stalling, crashing or exhausting memory, and real-sized input stays well inside them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigoError } from '../core/index.ts';
import { buildBundleDocument } from './bundle.ts';
import { stackLimits, templateLimits } from './limits.ts';
import { validateFiles } from './testing.ts';
import type { Diagnostic, ValidateResult } from './types.ts';
import { mergeBombYaml } from './hostile.fixture.ts';

const envoys = (crates: string): string => `envoys:\n  - match: "*"\n    configcrates: [${crates}]\n`;
const motd = `name: motd\nresources:\n  - name: motd\n    type: file\n    target_path: /etc/motd\n    content: hi\n`;

function only(result: ValidateResult, code: string): Diagnostic {
  const found = result.diagnostics.filter((d) => d.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got ${JSON.stringify(result.diagnostics, null, 1)}`);
  assert.equal(result.snapshot, undefined);
  assert.equal(found[0]!.severity, 'error');
  return found[0]!;
}

function at(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}`;
}

describe('YAML limits', () => {
  it('a merge-key bomb stops at yaml.alias_limit', async () => {
    const text = mergeBombYaml();
    assert.ok(text.length < 4096);
    const d = only(
      await validateFiles({
        'common.vgo': text,
        'configcrates/motd.vgo': motd,
        'envoys.vgo': envoys('motd'),
      }),
      'yaml.alias_limit',
    );
    assert.equal(d.file, 'common.vgo');
    assert.match(d.message, new RegExp(`more than ${stackLimits.yamlMaxAliasNodes} nodes`));
  });

  it('200,000 nested "[" is yaml.too_deep at the level that went over, not a stack overflow', async () => {
    const d = only(
      await validateFiles({ 'envoys.vgo': `envoys: ${'['.repeat(200_000)}\n` }),
      'yaml.too_deep',
    );
    assert.equal(at(d), `envoys.vgo:1:${9 + stackLimits.yamlMaxDepth - 1}`);
  });

  it('deep block nesting and deep nesting on the general path are yaml.too_deep too', async () => {
    const compact = only(
      await validateFiles({ 'envoys.vgo': `${'- '.repeat(200_000)}x\n` }),
      'yaml.too_deep',
    );
    assert.equal(at(compact), `envoys.vgo:1:${2 * stackLimits.yamlMaxDepth + 1}`);
    // An anchor sends the file to the general parser, which must not recurse into this either.
    const general = only(
      await validateFiles({ 'envoys.vgo': `x: &a 1\ny: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n` }),
      'yaml.too_deep',
    );
    assert.equal(general.line, 2);
  });

  it('aliases nested inside themselves are yaml.too_deep', async () => {
    const lines = ['vars:', '  l0: &l0 [x]'];
    for (let i = 1; i <= stackLimits.yamlMaxDepth; i++) lines.push(`  l${i}: &l${i} [*l${i - 1}]`);
    const d = only(await validateFiles({ 'common.vgo': lines.join('\n') + '\n' }), 'yaml.too_deep');
    assert.equal(d.file, 'common.vgo');
  });
});

describe('foreach limits', () => {
  const listVar = (n: number): string =>
    `vars:\n  items: [${Array.from({ length: n }, (_, i) => i).join(', ')}]\n`;
  const perItem = (name: string, resources = 1, crateForeach = false): string => {
    const body = Array.from(
      { length: resources },
      (_, r) =>
        `  - name: "f${r}-{{ .Item }}"\n    type: directory\n    target_path: "/srv/${name}/${r}/{{ .Item }}"\n` +
        (crateForeach ? '' : '    foreach: items\n'),
    ).join('');
    return `name: ${name}\n${crateForeach ? 'foreach: items\n' : ''}resources:\n${body}`;
  };

  it('one loop over more items than allowed is foreach.too_many_items at the foreach', async () => {
    const d = only(
      await validateFiles({
        'common.vgo': listVar(stackLimits.foreachMaxItems + 1),
        'configcrates/many.vgo': perItem('many'),
        'envoys.vgo': envoys('many'),
      }),
      'foreach.too_many_items',
    );
    assert.equal(at(d), 'configcrates/many.vgo:6:14');
  });

  it('loops that together stamp too many resources for one configcrate are foreach.too_many_resources', async () => {
    const d = only(
      await validateFiles({
        'common.vgo': listVar(stackLimits.foreachMaxItems),
        'configcrates/wide.vgo': perItem(
          'wide',
          Math.ceil(stackLimits.foreachMaxResources / stackLimits.foreachMaxItems) + 1,
          true,
        ),
        'envoys.vgo': envoys('wide'),
      }),
      'foreach.too_many_resources',
    );
    assert.equal(at(d), 'configcrates/wide.vgo:2:10');
  });

  it('stamping too many resources in all is compile.too_many_resources', async () => {
    const crates = Math.ceil(stackLimits.compileMaxResources / stackLimits.foreachMaxItems) + 1;
    const files: Record<string, string> = { 'common.vgo': listVar(stackLimits.foreachMaxItems) };
    const names = Array.from({ length: crates }, (_, i) => `c${i}`);
    for (const name of names) files[`configcrates/${name}.vgo`] = perItem(name);
    files['envoys.vgo'] = envoys(names.join(', '));
    const result = await validateFiles(files);
    assert.ok(
      result.diagnostics.some((d) => d.code === 'compile.too_many_resources' && d.severity === 'error'),
    );
    assert.equal(result.snapshot, undefined);
  });
});

describe('template limits', () => {
  const file = (content: string, vars = ''): Record<string, string> => ({
    'configcrates/t.vgo': `name: t\n${vars}resources:\n  - name: t\n    type: file\n    target_path: /etc/t\n    content: '${content}'\n`,
    'envoys.vgo': envoys('t'),
  });

  it('too many range iterations is template.iteration_limit at the range', async () => {
    const d = only(
      await validateFiles(file(`{{ range ${templateLimits.maxIterations + 1} }}{{ end }}`)),
      'template.iteration_limit',
    );
    assert.equal(at(d), 'configcrates/t.vgo:6:15');
  });

  it('too much output is template.output_limit, also when one function would build it', async () => {
    const big = `vars:\n  big: "${'x'.repeat(10_000)}"\n`;
    only(
      await validateFiles(file('{{ range 1000 }}{{ $.Vars.big }}{{ end }}', big)),
      'template.output_limit',
    );
    const d = only(await validateFiles(file('{{ indent 1000000000 "x" }}')), 'template.output_limit');
    assert.equal(at(d), 'configcrates/t.vgo:6:18', 'at the function that would build it');
    const five = '{{ $x := printf "%1000000s" "x" }}{{ $y := printf "%s%s%s%s%s" $x $x $x $x $x }}';
    only(await validateFiles(file(five)), 'template.output_limit');
  });

  it('loops that process large values without printing them are template.work_limit', async () => {
    const big = `vars:\n  big: "${'x'.repeat(10_000)}"\n`;
    only(
      await validateFiles(file('{{ range 5000 }}{{ if contains "zz" $.Vars.big }}{{ end }}{{ end }}', big)),
      'template.work_limit',
    );
  });

  it('the templates of one resource share one budget', async () => {
    const half = Math.ceil(templateLimits.maxIterations / 2) + 1;
    const result = await validateFiles({
      'configcrates/t.vgo': `name: t\nresources:\n  - name: t\n    type: file\n    target_path: /etc/t\n    content: '{{ range ${half} }}{{ end }}'\n    owner: '{{ range ${half} }}{{ end }}root'\n`,
      'envoys.vgo': envoys('t'),
    });
    only(result, 'template.iteration_limit');
  });
});

describe('entry and when limits', () => {
  it('an entry that compiles to more than a bundle can carry is entry.too_large at the match block', async () => {
    const crate = (name: string): string =>
      `name: ${name}\nresources:\n  - name: f\n    type: file\n    target_path: /srv/${name}\n    content: "{{ .Vars.big }}"\n`;
    const d = only(
      await validateFiles({
        'common.vgo': `vars:\n  big: "${'x'.repeat(Math.ceil(stackLimits.entryMaxChars * 0.6))}"\n`,
        'configcrates/a.vgo': crate('a'),
        'configcrates/b.vgo': crate('b'),
        'envoys.vgo': envoys('a, b'),
      }),
      'entry.too_large',
    );
    assert.equal(at(d), 'envoys.vgo:2:5');
  });

  it('a configcrate whose templates render more than an entry may carry stops at entry.too_large', async () => {
    const d = only(
      await validateFiles({
        'configcrates/big.vgo': `name: big\nforeach: [${Array.from({ length: 100 }, (_, i) => i).join(', ')}]\nresources:\n  - name: "f{{ .Item }}"\n    type: file\n    target_path: "/srv/{{ .Item }}"\n    content: '{{ printf "%100000s" "x" }}'\n`,
        'envoys.vgo': envoys('big'),
      }),
      'entry.too_large',
    );
    assert.equal(d.file, 'configcrates/big.vgo');
    assert.match(d.message, /configcrate big renders more than/);
  });

  it('a when: chain too long to evaluate is when.syntax, not a stack overflow', async () => {
    const chain = Array.from({ length: 20_000 }, () => "os_family('debian')").join(' || ');
    const result = await validateFiles({
      'configcrates/w.vgo': `name: w\nresources:\n  - name: w\n    type: file\n    target_path: /etc/w\n    content: x\n    when: "${chain}"\n`,
      'envoys.vgo': envoys('w'),
    });
    assert.match(only(result, 'when.syntax').message, /more than 1000 && and \|\| operators/);
  });
});

describe('check-in renders', () => {
  it('a bundle rendered with traits stops at its budget with policy.template_limit', async () => {
    const result = await validateFiles({
      'configcrates/t.vgo': `name: t\nresources:\n  - name: t\n    type: file\n    target_path: /etc/t\n    content: '{{ range .Traits.n }}x{{ end }}'\n`,
      'envoys.vgo': envoys('t'),
    });
    const entry = result.snapshot!.entries[0]!;
    const options = { policyVersion: 2, secretsEpoch: 0, issuedAtMs: 1, expiresAtMs: 2 };
    assert.equal(
      buildBundleDocument(entry, { ...options, traits: { n: 3 } }).resources[0]!.params.content,
      'xxx',
    );
    assert.throws(
      () => buildBundleDocument(entry, { ...options, traits: { n: 1_000_000_000 } }),
      (err: unknown) =>
        err instanceof VigoError &&
        err.code === 'policy.template_limit' &&
        err.details.limit === 'iterations' &&
        err.details.line === 6,
    );
  });
});
