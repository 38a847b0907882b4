/**
 * GET  /tasks              [fleet.read] recent task runs; with push.execute, a form to start one
 * POST /tasks              [push.execute] start a run (a command or a named task) on chosen envoys
 * GET  /tasks/{id}         [fleet.read] one run: plan, status and every host's result, refreshed every
 *                          2 s while it runs (htmx asks for the #task-run block only)
 * POST /tasks/{id}/abort   [push.execute] stop the targets not yet reached
 * POST /tasks/push         [push.execute] force a check-in: connected envoys now, the others at their next
 *
 * The form goes through the same request parser, target selection, parameter binding and guardrail as
 * POST /api/v1/tasks: a refusal is shown with its code, and nothing is dispatched.
 */
import type { Ctx } from '../../server/core/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import { parseTaskRequest } from '../../server/orchestration/index.ts';
import type {
  ForcePush,
  PushAnswer,
  RunDetailView,
  RunSummaryView,
  TaskService,
} from '../../server/orchestration/index.ts';
import { badge, count, isoTimeCell } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { csrfInput, renderPage } from '../layout.ts';
import type { ErrorView, FormFields, Viewer, WebContext } from '../page-kit.ts';
import {
  errorView,
  htmlResponse,
  optionalField,
  pathParam,
  readForm,
  requireViewer,
  seeOther,
  wantsFragment,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';
import { readTargets, targetsField } from '../targets-field.ts';

export interface TaskPagesDeps {
  readonly shell: Shell;
  readonly tasks: TaskService;
  readonly push: ForcePush;
}

const runBlockId = 'task-run';
const listShown = 50;

function countsText(counts: RunSummaryView['counts']): string {
  const parts = Object.entries(counts).map(([state, n]) => `${count(n ?? 0)} ${state}`);
  return parts.length === 0 ? '—' : parts.join(', ');
}

function whatRuns(run: Pick<RunSummaryView, 'command' | 'taskName'>): Html {
  return run.taskName !== null
    ? html`task <code>${run.taskName}</code>`
    : html`<code>${run.command ?? ''}</code>`;
}

function runsTable(runs: readonly RunSummaryView[], nowMs: number): Html {
  if (runs.length === 0) return html`<p class="muted">No task has run yet.</p>`;
  return html`<table>
    <caption class="visually-hidden">
      Recent task runs
    </caption>
    <thead>
      <tr>
        <th scope="col">Started</th>
        <th scope="col">What</th>
        <th scope="col">Status</th>
        <th scope="col">Targets</th>
        <th scope="col">Outcomes</th>
        <th scope="col">By</th>
      </tr>
    </thead>
    <tbody>
      ${runs.map(
        (r) =>
          html`<tr>
            <td><a href="/tasks/${r.id}">${isoTimeCell(r.createdAt, nowMs)}</a></td>
            <td>${whatRuns(r)}</td>
            <td>${badge(r.status)}</td>
            <td>${count(r.targets)}</td>
            <td>${countsText(r.counts)}</td>
            <td>${r.actor}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function startForm(viewer: Viewer, form: FormFields): Html {
  if (!viewer.can('push.execute')) return html``;
  return html`<details class="panel" open>
    <summary><h2>Run a task</h2></summary>
    <form method="post" action="/tasks" class="grid-form">
      ${csrfInput(viewer)}
      ${targetsField(form, 'targets', 'Targets', 'web-*, db-1.example.com, os.distro=ubuntu')}
      <label for="command">Command</label>
      <input id="command" name="command" value="${form['command'] ?? ''}" placeholder="uptime" />
      <label for="taskName">or named task</label>
      <input
        id="taskName"
        name="taskName"
        value="${form['taskName'] ?? ''}"
        placeholder="disk-usage"
        aria-describedby="params-help"
      />
      <label for="params">Parameters</label>
      <textarea id="params" name="params" rows="2" aria-describedby="params-help">
${form['params'] ?? ''}</textarea>
      <p id="params-help" class="muted small">
        A named task from tasks.vgo (or vigo.converge, vigo.traits); its parameters one
        <code>key=value</code> per line.
      </p>
      <label for="batchSize">Batch size</label>
      <input
        id="batchSize"
        name="batchSize"
        value="${form['batchSize'] ?? ''}"
        placeholder="all at once; 10 or 25%"
      />
      <label for="maxFailures">Max failures</label>
      <input
        id="maxFailures"
        name="maxFailures"
        value="${form['maxFailures'] ?? ''}"
        placeholder="2 or 10%"
      />
      <label for="timeout">Timeout (s)</label>
      <input id="timeout" name="timeout" type="number" min="1" max="86400" value="${form['timeout'] ?? ''}" />
      <div class="form-actions"><button type="submit" class="primary">Run</button></div>
    </form>
  </details>`;
}

/** The form as the body POST /api/v1/tasks takes; its parser says what is wrong with it. */
function requestBody(form: FormFields): Record<string, unknown> {
  const body: Record<string, unknown> = {
    targets: readTargets(form, 'targets', 'Targets'),
  };
  const command = optionalField(form, 'command', 65_536, 'Command');
  const taskName = optionalField(form, 'taskName', 256, 'Named task');
  if (command !== undefined) body['command'] = command;
  if (taskName !== undefined) {
    body['taskName'] = taskName;
    const params: Record<string, string> = {};
    for (const line of (optionalField(form, 'params', 65_536, 'Parameters') ?? '').split('\n')) {
      const at = line.indexOf('=');
      if (line.trim() === '') continue;
      params[(at < 0 ? line : line.slice(0, at)).trim()] = at < 0 ? '' : line.slice(at + 1).trim();
    }
    body['params'] = params;
  }
  for (const key of ['batchSize', 'maxFailures'] as const) {
    const value = optionalField(form, key, 16, key);
    if (value !== undefined) body[key] = value;
  }
  const timeout = optionalField(form, 'timeout', 16, 'Timeout');
  if (timeout !== undefined) body['timeout'] = /^\d+$/.test(timeout) ? Number(timeout) : timeout;
  return body;
}

function pushForm(viewer: Viewer, form: FormFields): Html {
  if (!viewer.can('push.execute')) return html``;
  return html`<details class="panel">
    <summary><h2>Force a check-in</h2></summary>
    <form method="post" action="/tasks/push" class="grid-form">
      ${csrfInput(viewer)} ${targetsField(form, 'pushTargets', 'Envoys', 'web-*')}
      <label for="reason">Reason</label>
      <input id="reason" name="reason" maxlength="1024" value="${form['reason'] ?? ''}" />
      <p class="muted small">
        Connected agents check in now and get their full bundle; the others get it at their next check-in.
      </p>
      <div class="form-actions"><button type="submit">Check in now</button></div>
    </form>
  </details>`;
}

function pushedNotice(answer: PushAnswer): string {
  return (
    `${count(answer.targeted)} envoy${answer.targeted === 1 ? '' : 's'} pushed: ` +
    `${count(answer.pushedNow.length)} checking in now, ${count(answer.atNextCheckin.length)} at their next check-in.`
  );
}

interface ListView {
  readonly form?: FormFields;
  readonly error?: ErrorView;
  readonly notice?: string;
}

function listPage(deps: TaskPagesDeps, c: WebContext, ctx: Ctx, view: ListView): Response {
  const viewer = requireViewer(c, ctx);
  const runs = deps.tasks.list({ limit: listShown });
  const body = html`<h1>Tasks</h1>
    <p class="muted">
      Commands and named tasks run on envoys now, over their agent streams, in rolling batches (<code
        >vigocli task run</code
      >
      does the same).
    </p>
    ${startForm(viewer, view.form ?? {})} ${pushForm(viewer, view.form ?? {})}
    ${runsTable(runs.items, Date.now())}`;
  const page = renderPage(deps.shell, {
    title: 'Tasks',
    viewer,
    nav: 'tasks',
    body,
    error: view.error,
    notice: view.notice,
  });
  return htmlResponse(c, page, view.error?.status ?? 200);
}

function output(label: string, text: string): Html {
  if (text === '') return html``;
  return html`<details>
    <summary>${label} (${count(Buffer.byteLength(text))} bytes)</summary>
    <pre>${text}</pre>
  </details>`;
}

function runBlock(viewer: Viewer, run: RunDetailView, nowMs: number): Html {
  const running = run.status === 'running';
  return html`<section
    id="${runBlockId}"
    ${running ? html`hx-get="/tasks/${run.id}" hx-trigger="every 2s" hx-target="#${runBlockId}" hx-swap="outerHTML"` : ''}
  >
    <dl class="facts">
      <dt>Runs</dt>
      <dd>${whatRuns(run)}</dd>
      <dt>Status</dt>
      <dd>
        ${badge(run.status)} ${run.message === '' ? '' : html`<span class="muted">${run.message}</span>`}
      </dd>
      <dt>Targets</dt>
      <dd>
        ${count(run.targets)} in ${count(run.batches)} batch${run.batches === 1 ? '' : 'es'}:
        ${countsText(run.counts)}
      </dd>
      <dt>Started</dt>
      <dd>${isoTimeCell(run.createdAt, nowMs)} by ${run.actor}</dd>
    </dl>
    ${
      running && viewer.can('push.execute')
        ? html`<form
            method="post"
            action="/tasks/${run.id}/abort"
            class="inline"
            data-confirm="Abort this run? Hosts not reached yet are skipped; running tasks finish."
          >
            ${csrfInput(viewer)}<button type="submit" class="danger small">Abort</button>
          </form>`
        : ''
    }
    <table>
      <caption class="visually-hidden">
        Result per host
      </caption>
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Batch</th>
          <th scope="col">State</th>
          <th scope="col">Exit</th>
          <th scope="col">Output</th>
        </tr>
      </thead>
      <tbody>
        ${run.items.map(
          (t) =>
            html`<tr>
              <th scope="row"><a href="/envoys/${t.envoyId}">${t.hostname}</a></th>
              <td>${t.batch}</td>
              <td>${badge(t.state)}</td>
              <td>${t.exitCode === null ? '—' : String(t.exitCode)}</td>
              <td>
                ${t.message === '' ? '' : html`<span class="muted">${t.message}</span>`}
                ${output('stdout', t.stdout)} ${output('stderr', t.stderr)}
                ${t.truncated ? html`<span class="muted small">(output truncated)</span>` : ''}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function detailPage(deps: TaskPagesDeps, c: WebContext, ctx: Ctx, error?: ErrorView): Response {
  const viewer = requireViewer(c, ctx);
  const run = deps.tasks.get(pathParam(c, 'id'));
  const block = runBlock(viewer, run, Date.now());
  if (wantsFragment(c, runBlockId)) return htmlResponse(c, block);
  const body = html`<p><a href="/tasks">All tasks</a></p>
    <h1>Task run <code>${run.id}</code></h1>
    ${block}`;
  return htmlResponse(
    c,
    renderPage(deps.shell, { title: 'Task run', viewer, nav: 'tasks', body, error }),
    error?.status ?? 200,
  );
}

export function taskPages(deps: TaskPagesDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/tasks',
      summary: 'Task runs',
      access: 'fleet.read',
      nav: 'tasks',
      handler: ({ c, ctx }) => listPage(deps, c, ctx, {}),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/tasks',
      summary: 'Start a task run',
      access: 'push.execute',
      nav: 'tasks',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const started = deps.tasks.start(ctx, parseTaskRequest(requestBody(form), ctx));
          if ('dryRun' in started) return listPage(deps, c, ctx, { form });
          return seeOther(c, `/tasks/${started.id}`);
        } catch (err) {
          return listPage(deps, c, ctx, { form, error: errorView(c, err) });
        }
      },
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/tasks/push',
      summary: 'Force a check-in',
      access: 'push.execute',
      nav: 'tasks',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const answer = deps.push.push(ctx, {
            targets: readTargets(form, 'pushTargets', 'Envoys'),
            reason: optionalField(form, 'reason', 1024, 'Reason') ?? '',
          });
          return listPage(deps, c, ctx, { notice: pushedNotice(answer) });
        } catch (err) {
          return listPage(deps, c, ctx, { form, error: errorView(c, err) });
        }
      },
    }),
    pageRoute(shell, {
      method: 'GET',
      path: '/tasks/{id}',
      summary: 'One task run',
      access: 'fleet.read',
      nav: 'tasks',
      handler: ({ c, ctx }) => detailPage(deps, c, ctx),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/tasks/{id}/abort',
      summary: 'Abort a task run',
      access: 'push.execute',
      nav: 'tasks',
      handler: ({ c, ctx }) => {
        const id = pathParam(c, 'id');
        try {
          deps.tasks.abort(ctx, id, 'aborted from the web UI');
          return seeOther(c, `/tasks/${id}`);
        } catch (err) {
          return detailPage(deps, c, ctx, errorView(c, err));
        }
      },
    }),
  ];
}
