import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileTemplate } from './index.ts';
import type { TemplateData } from './index.ts';
import { sprintf } from './printf.ts';

/** Outputs recorded from Go's text/template and fmt (see "about" in each file). */

interface ParityFile {
  data: TemplateData;
  cases: Array<{ template: string; want: string }>;
}

interface PrintfFile {
  rows: Array<[string, number, string]>;
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8')) as T;
}

describe('Go text/template parity', () => {
  const parity = load<ParityFile>('go-parity.json');
  for (const [i, { template, want }] of parity.cases.entries()) {
    it(`case ${i}: ${template.slice(0, 60).replaceAll('\n', '\\n')}`, () => {
      const compiled = compileTemplate(template, { file: 'parity.tmpl', line: 1, col: 1 });
      assert.equal(compiled.render(parity.data), want);
    });
  }
});

describe('Go fmt.Sprintf parity', () => {
  it('formats every recorded (format, value) pair like Go', () => {
    const { rows } = load<PrintfFile>('go-printf.json');
    assert.ok(rows.length > 700);
    const mismatches = rows
      .map(([format, value, want]) => ({ format, value, want, got: sprintf(format, [value]) }))
      .filter((row) => row.got !== row.want);
    assert.deepEqual(mismatches, []);
  });
});
