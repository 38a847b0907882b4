import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazySnapshot, encodeSnapshot } from './snapshot-encoded.ts';
import { deserializeSnapshot, serializeSnapshot } from './snapshot.ts';
import { waiverExpiryMs } from './parse-waivers.ts';
import { errorsOf, validateFiles } from './testing.ts';

const crate = (name: string, compliance = ''): string => `name: ${name}
${compliance}resources:
  - name: motd
    type: file
    target_path: /tmp/vigo-demo/${name}
    content: hello
`;
const roles = 'roles:\n  web:\n    configcrates: [base, nginx]\n';
const envoys = 'envoys:\n  - match: "web-*"\n    roles: [web]\n';
const base = {
  'configcrates/base.vgo': crate('base', 'compliance:\n  cis: ["1.1.1"]\n  nist-800-53: [AC-2]\n'),
  'configcrates/web/nginx.vgo': crate('nginx', 'compliance:\n  cis: ["5.2"]\n'),
  'roles.vgo': roles,
  'envoys.vgo': envoys,
};
const waiver = `waivers:
  - match: "web-*"
    framework: cis
    control: "5.2"
    reason: nginx runs as a sidecar here
    owner: web-team
    expires: 2027-06-30
`;

describe('compliance claims and waivers', () => {
  it('merges configcrate claims with the claims files of their directory and above', async () => {
    const result = await validateFiles({
      ...base,
      'configcrates/compliance.vgo': 'claims:\n  soc2: [CC6.1]\n',
      'configcrates/web/compliance.vgo': 'claims:\n  cis: ["5.1", "5.2"]\n',
      'compliance.vgo': waiver,
    });
    assert.deepEqual(errorsOf(result), []);
    const compliance = result.snapshot!.compliance;
    assert.deepEqual(compliance.claims, {
      base: { cis: ['1.1.1'], 'nist-800-53': ['AC-2'], soc2: ['CC6.1'] },
      nginx: { cis: ['5.1', '5.2'], soc2: ['CC6.1'] },
    });
    assert.equal(compliance.waivers.length, 1);
    const w = compliance.waivers[0]!;
    assert.deepEqual(
      { ...w, id: w.id.length },
      {
        id: 16,
        source: 'compliance.vgo:2',
        match: ['web-*'],
        framework: 'cis',
        control: '5.2',
        reason: 'nginx runs as a sidecar here',
        owner: 'web-team',
        expires: '2027-06-30',
        expiresAtMs: Date.UTC(2027, 6, 1),
      },
    );
  });

  it('reads the older waivers.vgo name and keeps claims through serialization and the lazy snapshot', async () => {
    const result = await validateFiles({ ...base, 'waivers.vgo': waiver });
    assert.deepEqual(errorsOf(result), []);
    const snapshot = result.snapshot!;
    assert.equal(snapshot.compliance.waivers[0]?.control, '5.2');
    const copy = deserializeSnapshot(serializeSnapshot(snapshot));
    assert.deepEqual(copy.compliance, snapshot.compliance);
    assert.equal(copy.hash, snapshot.hash);
    const encoded = encodeSnapshot(snapshot);
    const lazy = new LazySnapshot(encoded.body, encoded.index);
    assert.deepEqual(lazy.compliance, snapshot.compliance);
  });

  it('reports bad framework names, empty lists, non-string ids and unknown keys where they stand', async () => {
    const result = await validateFiles({
      ...base,
      'configcrates/base.vgo': crate(
        'base',
        'compliance:\n  CIS Benchmark: ["1.1"]\n  soc2: []\n  cis: [1.1]\n',
      ),
      'configcrates/compliance.vgo': 'claims:\n  soc2: [CC6.1]\nextra: 1\n',
    });
    assert.deepEqual(errorsOf(result), [
      'compliance.framework_invalid configcrates/base.vgo:3:3',
      'compliance.empty_controls configcrates/base.vgo:4:9',
      'compliance.control_invalid configcrates/base.vgo:5:9',
      'compliance.unknown_key configcrates/compliance.vgo:3:1',
    ]);
    assert.equal(result.snapshot, undefined);
  });

  it('refuses waivers without reason, owner or expiry, with bad dates, and with unknown keys', async () => {
    const result = await validateFiles({
      ...base,
      'compliance.vgo': `waivers:
  - match: "web-*"
    framework: cis
    control: "5.2"
    owner: web-team
    expires: 2027-06-30
  - match: "web-*"
    framework: cis
    control: "5.2"
    reason: x
    expires: 2027-02-30
  - match: "web-*"
    framework: cis
    control: "5.2"
    reason: x
    owner: y
    expires: next year
    approved_by: z
`,
    });
    assert.deepEqual(errorsOf(result), [
      'compliance.waiver_incomplete compliance.vgo:2:5',
      'compliance.waiver_incomplete compliance.vgo:7:5',
      'compliance.date_invalid compliance.vgo:11:14',
      'compliance.date_invalid compliance.vgo:17:14',
      'compliance.unknown_key compliance.vgo:18:5',
    ]);
    const messages = result.diagnostics.map((d) => d.message).join('\n');
    assert.match(messages, /waiver 1 in compliance.vgo has no reason/);
    assert.match(messages, /waiver 2 in compliance.vgo has no owner/);
  });

  it('reads expiry dates as whole UTC days and RFC 3339 times as instants', () => {
    assert.equal(waiverExpiryMs('2027-06-30'), Date.UTC(2027, 6, 1));
    assert.equal(waiverExpiryMs('2027-06-30T12:00:00Z'), Date.UTC(2027, 5, 30, 12));
    assert.equal(waiverExpiryMs('2027-06-30T12:00:00+02:00'), Date.UTC(2027, 5, 30, 10));
    assert.equal(waiverExpiryMs('2027-02-29'), undefined);
    assert.equal(waiverExpiryMs('2027-02-30T00:00:00Z'), undefined);
    assert.equal(waiverExpiryMs('2027-06-30T12:00:00'), undefined, 'a time needs its zone');
    assert.equal(waiverExpiryMs('30/06/2027'), undefined);
  });
  it('bounds what a compliance document may hold, each limit with its own diagnostic', async () => {
    const frameworks = Array.from({ length: 65 }, (_, i) => `  f${i}: [A-1]`).join('\n');
    const result = await validateFiles({
      ...base,
      'configcrates/compliance.vgo': `claims:\n${frameworks}\n`,
      'compliance.vgo': `waivers:
  - match: "web-["
    framework: cis
    control: "5.2"
    reason: x
    owner: y
    expires: 2027-06-30
  - match: "web-*"
    framework: cis
    control: "5.2"
    reason: ${'r'.repeat(1025)}
    owner: y
    expires: 2027-06-30
`,
    });
    assert.deepEqual(errorsOf(result), [
      'compliance.match_invalid compliance.vgo:2:12',
      'compliance.too_long compliance.vgo:11:13',
      'compliance.too_many configcrates/compliance.vgo:2:3',
    ]);
  });
});
