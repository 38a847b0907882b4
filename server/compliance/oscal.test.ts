import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { isVigoError } from '../core/index.ts';
import { buildOscalAssessmentResults, oscalControlId, uuidV5 } from './oscal.ts';
import { compile, enroll, harness, openFixture, removeTempDirs, result, tempDir } from './testing.ts';
import type { Harness } from './testing.ts';

const schemaFile = path.resolve(
  import.meta.dirname,
  '../../test/fixtures/oscal/oscal_assessment-results_schema.json',
);

interface Doc {
  'assessment-results': {
    results: {
      findings: { title: string; target: { 'target-id': string; status: { state: string } } }[];
      observations: { uuid: string; props: { name: string; value: string }[] }[];
      risks?: {
        status: string;
        description: string;
        deadline: string;
        props: { name: string; value: string }[];
      }[];
      'reviewed-controls': { 'control-selections': { 'include-controls': { 'control-id': string }[] }[] };
    }[];
  };
}

let validate: ValidateFunction;
let h: Harness;
const ids: Record<string, string> = {};
const clock = { now: Date.UTC(2027, 0, 1) };

before(async () => {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object);
  const file = path.join(tempDir(), 'vigo.db');
  const setup = openFixture(file);
  for (const host of ['web-1.example.com', 'web-2.example.com', 'db-1.example.com'])
    ids[host] = enroll(setup, host);
  setup.close();
  h = harness(file, clock);
  h.service.activate(await compile('2027-06-30', 'web-2*'));
  await h.service.settled();
  await h.submit({
    runId: 'a',
    envoyId: ids['web-1.example.com']!,
    startedAtMs: 1,
    dryRun: false,
    results: [result('base', 'none'), result('nginx', 'none')],
  });
  await h.submit({
    runId: 'b',
    envoyId: ids['web-2.example.com']!,
    startedAtMs: 1,
    dryRun: false,
    results: [result('base', 'failed'), result('nginx', 'failed')],
  });
});
after(() => {
  h.close();
  removeTempDirs();
});

function check(text: string): Doc {
  const doc = JSON.parse(text) as Doc;
  const ok = validate(doc);
  assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  return doc;
}

describe('OSCAL assessment-results export', () => {
  it('validates against NIST schema with a finding per control and the waiver as an approved deviation', async () => {
    const doc = check(
      await buildOscalAssessmentResults(h.service, { framework: 'cis' }, { version: () => 3 }),
    );
    const [res] = doc['assessment-results'].results;
    assert.ok(res);
    assert.deepEqual(
      res.findings.map((f) => [f.title, f.target['target-id'], f.target.status.state]),
      [
        ['cis 1.1.1', '_1.1.1', 'not-satisfied'],
        ['cis 5.2', '_5.2', 'satisfied'],
      ],
    );
    assert.equal(res.observations.length, 4, 'two envoys × two controls; db-1 claims nothing');
    assert.equal(res.risks?.length, 1);
    const risk = res.risks[0]!;
    assert.equal(risk.status, 'deviation-approved');
    assert.equal(risk.description, 'nginx is replaced next quarter');
    assert.equal(risk.deadline, '2027-07-01T00:00:00.000Z');
    assert.ok(risk.props.some((p) => p.name === 'owner' && p.value === 'web-team'));
    assert.ok(
      res.observations.some((o) => o.props.some((p) => p.name === 'control-state' && p.value === 'waived')),
    );
  });

  it('narrows to envoys matching a glob, and keeps UUIDs stable across exports', async () => {
    const one = check(await buildOscalAssessmentResults(h.service, { framework: 'cis', envoys: 'web-1*' }));
    const [res] = one['assessment-results'].results;
    assert.equal(res!.observations.length, 2);
    assert.equal(res!.risks, undefined, 'the waiver covers no exported envoy');
    assert.ok(res!.findings.every((f) => f.target.status.state === 'satisfied'));
    const again = check(await buildOscalAssessmentResults(h.service, { framework: 'cis', envoys: 'web-1*' }));
    assert.deepEqual(
      again['assessment-results'].results[0]!.observations.map((o) => o.uuid),
      res!.observations.map((o) => o.uuid),
    );
  });

  it('exports NIST control ids in the catalog form', async () => {
    const doc = check(await buildOscalAssessmentResults(h.service, { framework: 'nist-800-53' }));
    const selected = doc['assessment-results'].results[0]!['reviewed-controls']['control-selections'][0]!;
    assert.deepEqual(selected['include-controls'], [{ 'control-id': 'cm-6' }]);
    // The schema's token type refuses ids as frameworks write them: the validator does check.
    selected['include-controls'][0]!['control-id'] = 'CM-6(1)';
    assert.equal(validate(doc), false);
    assert.equal(oscalControlId('AC-2(1)'), 'ac-2.1');
    assert.equal(oscalControlId('164.312(e)(1)'), '_164.312.e.1');
    assert.match(uuidV5('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('refuses a framework nobody claims and a malformed glob', async () => {
    await assert.rejects(
      buildOscalAssessmentResults(h.service, { framework: 'pci-dss' }),
      (err: unknown) => isVigoError(err) && err.code === 'compliance.framework_unknown',
    );
    await assert.rejects(
      buildOscalAssessmentResults(h.service, { framework: 'cis', envoys: 'web-[' }),
      (err: unknown) => isVigoError(err) && err.code === 'request.invalid',
    );
  });
});
