/**
 * GET  /workflows                [fleet.read] recent workflow runs and the workflows one can start
 * GET  /workflows/{id}           [fleet.read] one run and every step it executed, refreshed every 2 s while
 *                                it runs (htmx asks for the #workflow-run block only)
 * POST /workflows/{id}/approve   [workflow.execute] approve the approval step the run waits on
 * POST /workflows/{id}/reject    [workflow.execute] reject it; the run follows the step's on_failure
 * POST /workflows/{id}/abort     [workflow.execute] abort the run
 *
 * The buttons go through the same service as /api/v1/workflows: the run's starter is refused approval
 * (workflow.self_approval), shown with its code.
 */
import type { Ctx } from '../../server/core/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type {
  WorkflowRunDetailView,
  WorkflowRunView,
  WorkflowService,
} from '../../server/orchestration/index.ts';
import { badge, isoTimeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { csrfInput, renderPage } from '../layout.ts';
import type { ErrorView, Viewer, WebContext } from '../page-kit.ts';
import { errorView, htmlResponse, pathParam, requireViewer, seeOther, wantsFragment } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface WorkflowPagesDeps {
  readonly shell: Shell;
  readonly workflows: WorkflowService;
}

const runBlockId = 'workflow-run';
const listShown = 50;

function nowText(run: WorkflowRunView): Html {
  if (run.currentStep === null) return html`—`;
  return run.awaitingApproval
    ? html`<code>${run.currentStep}</code> ${badge('waiting')} for approval`
    : html`<code>${run.currentStep}</code>`;
}

export function runsTable(runs: readonly WorkflowRunView[], nowMs: number): Html {
  if (runs.length === 0) return html`<p class="muted">No workflow has run yet.</p>`;
  return html`<table>
    <caption class="visually-hidden">
      Recent workflow runs
    </caption>
    <thead>
      <tr>
        <th scope="col">Started</th>
        <th scope="col">Workflow</th>
        <th scope="col">Status</th>
        <th scope="col">Now</th>
        <th scope="col">By</th>
      </tr>
    </thead>
    <tbody>
      ${runs.map(
        (r) =>
          html`<tr>
            <td><a href="/workflows/${r.id}">${isoTimeCell(r.createdAt, nowMs)}</a></td>
            <td><code>${r.workflow}</code></td>
            <td>${badge(r.status)}</td>
            <td>${nowText(r)}</td>
            <td>${r.actor}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function listPage(deps: WorkflowPagesDeps, c: WebContext, ctx: Ctx): Response {
  const viewer = requireViewer(c, ctx);
  const runs = deps.workflows.list({ limit: listShown });
  const defs = deps.workflows.definitions();
  const body = html`<h1>Workflows</h1>
    <p class="muted">
      Workflows come from <code>workflows.vgo</code> in the published stacks. Start one with
      <code>vigocli workflow run NAME --param key=value</code>; runs waiting for approval are approved here or
      with <code>vigocli workflow approve RUN</code> by someone other than who started them.
    </p>
    ${
      defs.length === 0
        ? html`<p class="muted">The active configuration defines no workflows.</p>`
        : html`<h2>Defined</h2>
            <ul>
              ${defs.map(
                (d) =>
                  html`<li>
                    <code>${d.name}</code>: ${d.steps.map((s) => s.id).join(' → ')}
                    ${d.description === '' ? '' : html`<span class="muted">— ${d.description}</span>`}
                  </li>`,
              )}
            </ul>`
    }
    <h2>Recent runs</h2>
    ${runsTable(runs.items, Date.now())}`;
  return htmlResponse(c, renderPage(deps.shell, { title: 'Workflows', viewer, nav: 'workflows', body }));
}

function action(viewer: Viewer, run: WorkflowRunView, verb: string, label: string, confirm: string): Html {
  return html`<form
    method="post"
    action="/workflows/${run.id}/${verb}"
    class="inline"
    data-confirm="${confirm}"
  >
    ${csrfInput(viewer)}<button type="submit" class="${verb === 'approve' ? 'small' : 'danger small'}">
      ${label}
    </button>
  </form>`;
}

export function runBlock(viewer: Viewer, run: WorkflowRunDetailView, nowMs: number): Html {
  const running = run.status === 'running';
  const acts = running && viewer.can('workflow.execute');
  return html`<section
    id="${runBlockId}"
    ${running ? html`hx-get="/workflows/${run.id}" hx-trigger="every 2s" hx-target="#${runBlockId}" hx-swap="outerHTML"` : ''}
  >
    <dl class="facts">
      <dt>Workflow</dt>
      <dd><code>${run.workflow}</code> (configuration version ${run.configVersion})</dd>
      <dt>Status</dt>
      <dd>
        ${badge(run.status)} ${run.errorCode === null ? '' : html`<code>${run.errorCode}</code>`}
        ${run.message === '' ? '' : html`<span class="muted">${run.message}</span>`}
      </dd>
      <dt>Now</dt>
      <dd>${nowText(run)}</dd>
      <dt>Parameters</dt>
      <dd>
        ${
          Object.keys(run.params).length === 0
            ? '—'
            : Object.entries(run.params).map(([k, v]) => html`<code>${k}=${v}</code> `)
        }
      </dd>
      <dt>Started</dt>
      <dd>${isoTimeCell(run.createdAt, nowMs)} by ${run.actor}</dd>
    </dl>
    ${
      acts && run.awaitingApproval
        ? html`${action(viewer, run, 'approve', 'Approve', 'Approve this step? The run goes on.')}
          ${action(viewer, run, 'reject', 'Reject', 'Reject this step? The run follows its on_failure.')}`
        : ''
    }
    ${acts ? action(viewer, run, 'abort', 'Abort', 'Abort this run, and the task its current step started?') : ''}
    <table>
      <caption class="visually-hidden">
        Steps executed
      </caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Step</th>
          <th scope="col">Type</th>
          <th scope="col">Status</th>
          <th scope="col">Started</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${run.steps.map(
          (s) =>
            html`<tr>
              <td>${s.seq}</td>
              <th scope="row"><code>${s.stepId}</code></th>
              <td>${s.type}</td>
              <td>${badge(s.status)}</td>
              <td>${isoTimeCell(s.startedAt, nowMs)}</td>
              <td>
                ${s.taskRunId === null ? '' : html`<a href="/tasks/${s.taskRunId}">task run</a>`}
                ${s.errorCode === null ? '' : html`<code>${s.errorCode}</code>`}
                ${s.message === '' ? '' : html`<span class="muted">${s.message}</span>`}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function detailPage(deps: WorkflowPagesDeps, c: WebContext, ctx: Ctx, error?: ErrorView): Response {
  const viewer = requireViewer(c, ctx);
  const run = deps.workflows.get(pathParam(c, 'id'));
  const block = runBlock(viewer, run, Date.now());
  if (wantsFragment(c, runBlockId)) return htmlResponse(c, block);
  const body = html`<p><a href="/workflows">All workflows</a></p>
    <h1>Workflow run <code>${run.id}</code></h1>
    ${block}`;
  return htmlResponse(
    c,
    renderPage(deps.shell, { title: 'Workflow run', viewer, nav: 'workflows', body, error }),
    error?.status ?? 200,
  );
}

export function workflowPages(deps: WorkflowPagesDeps): AnyRoute[] {
  const { shell } = deps;
  const act = (verb: 'approve' | 'reject' | 'abort', summary: string): AnyRoute =>
    pageRoute(shell, {
      method: 'POST',
      path: `/workflows/{id}/${verb}`,
      summary,
      access: 'workflow.execute',
      nav: 'workflows',
      handler: ({ c, ctx }) => {
        const id = pathParam(c, 'id');
        try {
          if (verb === 'abort') deps.workflows.abort(ctx, id, 'aborted from the web UI');
          else deps.workflows.decide(ctx, id, { approve: verb === 'approve', comment: 'from the web UI' });
          return seeOther(c, `/workflows/${id}`);
        } catch (err) {
          return detailPage(deps, c, ctx, errorView(c, err));
        }
      },
    });
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/workflows',
      summary: 'Workflow runs',
      access: 'fleet.read',
      nav: 'workflows',
      handler: ({ c, ctx }) => listPage(deps, c, ctx),
    }),
    pageRoute(shell, {
      method: 'GET',
      path: '/workflows/{id}',
      summary: 'One workflow run',
      access: 'fleet.read',
      nav: 'workflows',
      handler: ({ c, ctx }) => detailPage(deps, c, ctx),
    }),
    act('approve', 'Approve the step a workflow run waits on'),
    act('reject', 'Reject the step a workflow run waits on'),
    act('abort', 'Abort a workflow run'),
  ];
}
