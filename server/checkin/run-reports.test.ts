import { create } from '@bufbuild/protobuf';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ReportResultsPayloadSchema, ResourceOutcome, RunReportSchema } from '../../protocol/index.ts';
import type { RunReport } from '../../protocol/index.ts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { sortRunReports } from './run-reports.ts';
import { EnvelopeRejection } from './verify.ts';

type RunInit = MessageInitShape<typeof RunReportSchema>;

function run(overrides: RunInit = {}): RunReport {
  return create(RunReportSchema, {
    runId: randomUUID(),
    policyVersion: 3n,
    startedAtMs: 1_700_000_000_000n,
    finishedAtMs: 1_700_000_000_500n,
    results: [
      {
        resourceId: 'motd/motd',
        resourceType: 'file',
        configcrate: 'motd',
        outcome: ResourceOutcome.UPDATED,
      },
    ],
    ...overrides,
  });
}

const result = (fields: Record<string, unknown>) => [
  { resourceId: 'a', resourceType: 'file', outcome: ResourceOutcome.NONE, ...fields },
];

function sort(runs: RunReport[]) {
  return sortRunReports('envoy-1', create(ReportResultsPayloadSchema, { runs }));
}

describe('sortRunReports', () => {
  it('stores sound runs and rejects each broken one alone, by its run_id', () => {
    const broken: [string, RunInit][] = [
      ['an unspecified outcome', { results: result({ outcome: ResourceOutcome.UNSPECIFIED }) }],
      ['a run id that is no UUID', { runId: 'run-00000001' }],
      ['a run id with a brace', { runId: `{${randomUUID()}}` }],
      ['finished before started', { finishedAtMs: 1_699_999_999_999n }],
      ['a negative start', { startedAtMs: -1n, finishedAtMs: 0n }],
      ['too many results', { results: Array.from({ length: 10_001 }, () => result({})[0]!) }],
      ['an empty resource id', { results: result({ resourceId: '' }) }],
      ['a resource id over 512 bytes', { results: result({ resourceId: 'é'.repeat(257) }) }],
      ['a resource type over 64 bytes', { results: result({ resourceType: 't'.repeat(65) }) }],
      ['an empty resource type', { results: result({ resourceType: '' }) }],
      ['a configcrate over 256 bytes', { results: result({ configcrate: 'c'.repeat(257) }) }],
      ['a message over 4 KiB', { results: result({ message: 'm'.repeat(4097) }) }],
      ['a traceparent over 128 bytes', { traceparent: 't'.repeat(129) }],
      ['a policy version beyond 2^53', { policyVersion: 2n ** 60n }],
    ];
    for (const [what, fields] of broken) {
      const good = run();
      const bad = run(fields);
      const sorted = sort([good, bad]);
      assert.deepEqual(sorted.rejected, [bad.runId], what);
      assert.deepEqual(
        sorted.records.map((r) => r.runId),
        [good.runId],
        `${what}: the good run is kept`,
      );
      assert.notEqual(sorted.firstProblem, undefined);
    }
  });

  it('accepts the documented extremes', () => {
    const sorted = sort([
      run({
        runId: randomUUID().toUpperCase(),
        finishedAtMs: 1_700_000_000_000n,
        results: Array.from({ length: 10_000 }, () => result({ message: 'm'.repeat(4096) })[0]!),
      }),
      run({ results: [] }),
    ]);
    assert.deepEqual(sorted.rejected, []);
    assert.equal(sorted.records.length, 2);
    assert.equal(sorted.records[0]?.results.length, 10_000);
  });

  it('stores a run sent twice in one call once', () => {
    const twice = run();
    const sorted = sort([twice, twice]);
    assert.equal(sorted.records.length, 1);
    assert.deepEqual(sorted.rejected, []);
  });

  it('refuses a call with no runs or more than 100 as a whole', () => {
    for (const count of [0, 101]) {
      assert.throws(
        () => sort(Array.from({ length: count }, () => run())),
        (err) => err instanceof EnvelopeRejection && err.code === 'checkin.payload_invalid',
        `${count} runs`,
      );
    }
    assert.equal(sort(Array.from({ length: 100 }, () => run())).records.length, 100);
  });
});
