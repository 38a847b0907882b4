/**
 * GET  /queries   [query.execute] a form to read one trait, or ask one named query of the stacks
 *                 (queries.vgo), now on chosen envoys
 * POST /queries   [query.execute] runs the live query (as POST /api/v1/queries) and shows the answer:
 *                 how many hosts hold each value, the hosts that did not answer and why, read errors,
 *                 and the first rows host by host
 *
 * The page waits for the answer, which comes when every online target answered or at the deadline.
 */
import type { Ctx } from '../../server/core/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { LiveQueries, LiveQueryAnswer } from '../../server/orchestration/index.ts';
import type { CompiledQuery } from '../../server/policy/index.ts';
import { count } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { csrfInput, renderPage } from '../layout.ts';
import type { ErrorView, FormFields, Viewer, WebContext } from '../page-kit.ts';
import {
  errorView,
  htmlResponse,
  optionalField,
  readForm,
  requireViewer,
  requiredField,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';
import { readTargets, targetsField } from '../targets-field.ts';

export interface QueryPagesDeps {
  readonly shell: Shell;
  readonly queries: LiveQueries;
}

const deadlineChoices = [5, 10, 30, 60] as const;

function namedQueryField(named: Readonly<Record<string, CompiledQuery>>, form: FormFields): Html {
  const names = Object.keys(named);
  if (names.length === 0) return html``;
  const chosen = form['name'] ?? '';
  const what = (q: CompiledQuery): string =>
    q.trait !== null ? `trait ${q.trait}` : `${q.probe ?? ''} ${Object.values(q.args).join(' ')}`.trim();
  return html`<label for="name">Named query</label>
    <select id="name" name="name">
      <option value="" ${chosen === '' ? html`selected` : ''}>— none: read the trait below —</option>
      ${names.map(
        (n) =>
          html`<option value="${n}" ${n === chosen ? html`selected` : ''}>
            ${n}:
            ${named[n]!.description === '' ? what(named[n]!) : `${named[n]!.description} (${what(named[n]!)})`}
          </option>`,
      )}
    </select>`;
}

function queryForm(viewer: Viewer, form: FormFields, named: Readonly<Record<string, CompiledQuery>>): Html {
  const deadline = form['deadline'] ?? '10';
  const hasNamed = Object.keys(named).length > 0;
  return html`<form method="post" action="/queries" class="grid-form">
    ${csrfInput(viewer)} ${targetsField(form, 'targets', 'Targets', '*, web-*, os.family=debian')}
    ${namedQueryField(named, form)}
    <label for="traitPath">Trait</label>
    <input
      id="traitPath"
      name="traitPath"
      ${hasNamed ? '' : html`required`}
      value="${form['traitPath'] ?? ''}"
      placeholder="os.version"
    />
    <label for="deadline">Wait at most</label>
    <select id="deadline" name="deadline">
      ${deadlineChoices.map(
        (s) =>
          html`<option value="${String(s)}" ${String(s) === deadline ? html`selected` : ''}>
            ${String(s)} s
          </option>`,
      )}
    </select>
    <div class="form-actions"><button type="submit" class="primary">Ask now</button></div>
  </form>`;
}

function answerView(answer: LiveQueryAnswer): Html {
  const shown = (value: unknown): string => JSON.stringify(value);
  return html`<section id="query-answer" aria-labelledby="answer-heading">
    <h2 id="answer-heading">
      ${answer.queryName === null ? html`<code>${answer.traitPath}</code>` : html`Query <code>${answer.queryName}</code>`}
    </h2>
    <p>
      ${count(answer.answered)} of ${count(answer.targeted)} targeted hosts
      answered${
        answer.errorCount > 0 ? html`, ${count(answer.errorCount)} with an error` : ''
      }${answer.notAnsweredCount > 0 ? html`; ${count(answer.notAnsweredCount)} did not` : ''}.
    </p>
    <table>
      <caption class="visually-hidden">
        Hosts per value
      </caption>
      <thead>
        <tr>
          <th scope="col">Hosts</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        ${answer.values.map(
          (v) =>
            html`<tr>
              <td>${count(v.count)}</td>
              <td><code>${shown(v.value)}</code></td>
            </tr>`,
        )}
        ${
          answer.otherValues > 0
            ? html`<tr>
                <td>${count(answer.otherValues)}</td>
                <td class="muted">other values (too many distinct ones to list)</td>
              </tr>`
            : ''
        }
      </tbody>
    </table>
    ${
      answer.notAnswered.length === 0
        ? ''
        : html`<h3>Did not answer</h3>
            <ul>
              ${answer.notAnswered.map(
                (n) => html`<li><a href="/envoys/${n.envoyId}">${n.hostname}</a>: ${n.reason}</li>`,
              )}
            </ul>`
    }
    ${
      answer.errors.length === 0
        ? ''
        : html`<h3>Could not read it</h3>
            <ul>
              ${answer.errors.map((e) => html`<li><a href="/envoys/${e.envoyId}">${e.hostname}</a>: ${e.error}</li>`)}
            </ul>`
    }
    <details>
      <summary>Host by host (first ${count(answer.rows.length)})</summary>
      <table>
        <tbody>
          ${answer.rows.map(
            (r) =>
              html`<tr>
                <th scope="row"><a href="/envoys/${r.envoyId}">${r.hostname}</a></th>
                <td><code>${shown(r.value)}</code></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </details>
  </section>`;
}

interface View {
  readonly form?: FormFields;
  readonly answer?: LiveQueryAnswer;
  readonly error?: ErrorView;
}

function page(deps: QueryPagesDeps, c: WebContext, ctx: Ctx, view: View): Response {
  const viewer = requireViewer(c, ctx);
  const body = html`<h1>Live query</h1>
    <p class="muted">
      Reads one trait now, freshly collected, or asks one named read-only query of the stacks, on every chosen
      envoy whose agent is connected (<code>vigocli traits livequery</code> and
      <code>vigocli query run</code> do the same).
    </p>
    ${queryForm(viewer, view.form ?? {}, deps.queries.named())}
    ${view.answer === undefined ? '' : answerView(view.answer)}`;
  return htmlResponse(
    c,
    renderPage(deps.shell, { title: 'Live query', viewer, nav: 'queries', body, error: view.error }),
    view.error?.status ?? 200,
  );
}

export function queryPages(deps: QueryPagesDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/queries',
      summary: 'Live query',
      access: 'query.execute',
      nav: 'queries',
      handler: ({ c, ctx }) => page(deps, c, ctx, {}),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/queries',
      summary: 'Run a live query',
      access: 'query.execute',
      nav: 'queries',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const deadline = optionalField(form, 'deadline', 4, 'Wait at most') ?? '10';
          const name = optionalField(form, 'name', 64, 'Named query');
          const answer = await deps.queries.run(ctx, {
            targets: readTargets(form, 'targets', 'Targets'),
            ...(name === undefined || name === ''
              ? { traitPath: requiredField(form, 'traitPath', 256, 'Trait') }
              : { name, traitPath: optionalField(form, 'traitPath', 256, 'Trait') ?? '' }),
            deadlineSeconds: /^\d+$/.test(deadline) ? Number(deadline) : Number.NaN,
          });
          return page(deps, c, ctx, { form, answer });
        } catch (err) {
          return page(deps, c, ctx, { form, error: errorView(c, err) });
        }
      },
    }),
  ];
}
