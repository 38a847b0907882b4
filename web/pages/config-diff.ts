/**
 * Field-level config diffs on the web, and rollback with a preview:
 * GET  /config/versions/{version}/rollback   [config.rollback] what serving this version again changes
 *                                             (the diff against the active version) and a confirmation form
 * POST /config/versions/{version}/rollback   [config.rollback] roll back (audited as every rollback)
 * The diffs come from the publish service (computed in the validator worker from stored snapshots), the
 * same ones `vigocli config show` and `config rollback --dry-run` print.
 */
import type { Ctx } from '../../server/core/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import type { FieldDiff } from '../../server/policy/index.ts';
import type { PublishImpact, PublishService } from '../../server/publish/index.ts';
import { badge } from '../format.ts';
import type { Html } from '../html.ts';
import { html, joinHtml } from '../html.ts';
import type { Shell } from '../layout.ts';
import { csrfInput, renderPage } from '../layout.ts';
import type { ErrorView, Viewer, WebContext } from '../page-kit.ts';
import {
  errorView,
  htmlResponse,
  optionalField,
  pathParam,
  readForm,
  requireViewer,
  seeOther,
} from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';

export interface ConfigDiffDeps {
  readonly shell: Shell;
  readonly publish: PublishService;
  readonly versionNumber: (text: string) => number;
}

/** One resource change per list item; a changed one lists each field with its old and new value. */
export function fieldDiffView(fields: FieldDiff): Html {
  if (fields.resources.length === 0) return html`<p class="muted">No resource changes.</p>`;
  return html`<ul class="field-diff">
      ${fields.resources.map(
        (r) =>
          html`<li data-resource="${r.id}">
            <h3>${badge(r.status)} <code>${r.type} ${r.id}</code></h3>
            <p class="muted small">
              ${r.entryCount} ${r.entryCount === 1 ? 'host entry' : 'host entries'}:
              ${joinHtml(
                r.entries.map((e) => html`<code>${e}</code>`),
                ', ',
              )}${r.entryCount > r.entries.length ? ` and ${r.entryCount - r.entries.length} more` : ''}
            </p>
            ${
              r.fields.length === 0
                ? ''
                : html`<dl class="fields">
                    ${r.fields.map(
                      (f) =>
                        html`<dt><code>${f.field}</code></dt>
                          <dd>
                            ${f.before === undefined ? '' : html`<del><code>- ${f.before}</code></del>`}
                            ${f.after === undefined ? '' : html`<ins><code>+ ${f.after}</code></ins>`}
                          </dd>`,
                    )}
                  </dl>`
            }
            ${r.fieldsOmitted > 0 ? html`<p class="muted small">${r.fieldsOmitted} more fields (truncated)</p>` : ''}
          </li>`,
      )}
    </ul>
    ${
      fields.resourcesOmitted > 0
        ? html`<p class="muted small">${fields.resourcesOmitted} more resource changes (truncated)</p>`
        : ''
    }`;
}

export function envoysChanging(impact: PublishImpact): Html {
  return html`<p id="envoys-changing">
    <strong>${impact.envoysChanging}</strong> of ${impact.envoysTotal} enrolled envoys change.
  </p>`;
}

/** The link from a version page to its rollback preview, for those who may roll back. */
export function rollbackLink(viewer: Viewer, version: number, activeVersion: number | undefined): Html {
  if (!viewer.can('config.rollback') || version === activeVersion) return html``;
  return html`<p>
    <a class="button" href="/config/versions/${version}/rollback">Roll back to version ${version}…</a>
  </p>`;
}

async function previewPage(
  deps: ConfigDiffDeps,
  c: WebContext,
  ctx: Ctx,
  version: number,
  error?: ErrorView,
): Promise<Response> {
  const viewer = requireViewer(c, ctx);
  const active = deps.publish.status().active;
  const diff = await deps.publish.diff(version, active?.version);
  const body = html`<p class="breadcrumb">
      <a href="/config">Config</a> / <a href="/config/versions/${version}">Version ${version}</a> /
    </p>
    <h1>Roll back to version ${version}</h1>
    <p>
      The configuration of version ${version} is served again as a new version, replacing active version
      ${active?.version ?? 'none'}. Envoys receive it at their next check-in.
    </p>
    ${envoysChanging(diff.impact)}
    <section aria-labelledby="preview-title">
      <h2 id="preview-title">What changes</h2>
      ${fieldDiffView(diff.impact.fields)}
    </section>
    <form
      method="post"
      action="/config/versions/${version}/rollback"
      id="rollback-form"
      data-confirm="Roll back the whole fleet to the configuration of version ${version}?"
    >
      ${csrfInput(viewer)}
      <label for="rollback-message">Why</label>
      <input
        id="rollback-message"
        name="message"
        maxlength="1024"
        placeholder="recorded in history and the audit log"
      />
      <button type="submit" class="danger">Roll back to version ${version}</button>
      <a href="/config/versions/${version}">Cancel</a>
    </form>`;
  const page = renderPage(deps.shell, {
    title: `Roll back to version ${version}`,
    viewer,
    nav: 'config',
    body,
    ...(error === undefined ? {} : { error }),
  });
  return htmlResponse(c, page, error?.status ?? 200);
}

export function configDiffPages(deps: ConfigDiffDeps): AnyRoute[] {
  return [
    pageRoute(deps.shell, {
      method: 'GET',
      path: '/config/versions/{version}/rollback',
      summary: 'Preview a rollback: the diff against the active version, and a confirmation',
      access: 'config.rollback',
      nav: 'config',
      handler: ({ c, ctx }) => previewPage(deps, c, ctx, deps.versionNumber(pathParam(c, 'version'))),
    }),
    pageRoute(deps.shell, {
      method: 'POST',
      path: '/config/versions/{version}/rollback',
      summary: "Roll back to a version's configuration (served again as a new version)",
      access: 'config.rollback',
      nav: 'config',
      handler: async ({ c, ctx }) => {
        const version = deps.versionNumber(pathParam(c, 'version'));
        const form = await readForm(c);
        try {
          await deps.publish.rollback(ctx, version, optionalField(form, 'message', 1024, 'Why'));
          return seeOther(c, '/config?notice=rolledback');
        } catch (err) {
          return await previewPage(deps, c, ctx, version, errorView(c, err));
        }
      },
    }),
  ];
}
