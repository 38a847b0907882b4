import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Actor } from '../../server/core/index.ts';
import { hasPermission } from '../../server/identity/index.ts';
import type { WorkflowRunDetailView } from '../../server/orchestration/index.ts';
import type { Viewer } from '../page-kit.ts';
import { runBlock, runsTable } from './workflows.ts';

const xss = '<script>alert(1)</script>';

function viewerAs(role: 'admin' | 'viewer'): Viewer {
  const actor: Actor = { kind: 'user', userId: 'usr_1', username: 'ann', role };
  return { actor, name: 'ann', role, csrfToken: 'tok', can: (p) => hasPermission(actor, p) };
}

const waiting: WorkflowRunDetailView = {
  id: 'run-1',
  workflow: xss,
  configVersion: 3,
  actor: xss,
  status: 'running',
  params: { note: xss },
  stepsExecuted: 2,
  currentStep: 'gate',
  awaitingApproval: true,
  errorCode: null,
  message: '',
  createdAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  steps: [
    {
      seq: 1,
      stepId: 'probe',
      type: 'task',
      status: 'failed',
      input: {},
      output: {},
      taskRunId: 'task-1',
      deadlineAt: null,
      decidedBy: null,
      errorCode: 'workflow.step_failed',
      message: xss,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
    },
  ],
};

describe('workflow pages', () => {
  it('escape what runs carry and offer approve, reject and abort only to who may act', () => {
    const admin = runBlock(viewerAs('admin'), waiting, Date.now()).text;
    assert.equal(/<script>alert/i.test(admin), false);
    assert.match(admin, /action="\/workflows\/run-1\/approve"/);
    assert.match(admin, /action="\/workflows\/run-1\/reject"/);
    assert.match(admin, /action="\/workflows\/run-1\/abort"/);
    assert.match(admin, /href="\/tasks\/task-1"/);
    const viewer = runBlock(viewerAs('viewer'), waiting, Date.now()).text;
    assert.doesNotMatch(viewer, /\/approve"|\/abort"/);
    const over = runBlock(
      viewerAs('admin'),
      { ...waiting, status: 'succeeded', currentStep: null, awaitingApproval: false },
      Date.now(),
    ).text;
    assert.doesNotMatch(over, /\/approve"|\/abort"|hx-trigger/);
    const list = runsTable([waiting], Date.now()).text;
    assert.equal(/<script>alert/i.test(list), false);
    assert.match(list, /for approval/);
  });
});
