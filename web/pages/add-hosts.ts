/**
 * GET  /admin/add-hosts  [fleet.write] how to add hosts: a form for a new enrollment token
 * POST /admin/add-hosts  [fleet.write] creates the token and shows it once with the install command to
 *                        paste on each host (the same command `vigocli enroll token create` prints)
 */
import type { Ctx } from '../../server/core/index.ts';
import type { BootstrapService, InstallCommand } from '../../server/bootstrap/index.ts';
import type { CreatedEnrollToken, EnrollService } from '../../server/enroll/index.ts';
import type { AnyRoute } from '../../server/http/route-table.ts';
import { secretOnce } from '../format.ts';
import type { Html } from '../html.ts';
import { html } from '../html.ts';
import type { Shell } from '../layout.ts';
import { renderPage } from '../layout.ts';
import type { ErrorView, WebContext } from '../page-kit.ts';
import { errorView, formView, htmlResponse, panel, readForm, requireViewer } from '../page-kit.ts';
import { pageRoute } from '../page-route.ts';
import { parseCreate, tokenFields } from './admin-enroll.ts';

export interface AddHostsPagesDeps {
  readonly shell: Shell;
  readonly enroll: EnrollService;
  readonly bootstrap: Pick<BootstrapService, 'installCommand'>;
}

/** A command in a read-only box with a copy button (app.js copies the box's value). */
function commandBox(id: string, label: string, command: string): Html {
  return html`<label for="${id}">${label}</label>
    <div class="copy-row">
      <textarea id="${id}" class="command-box" readonly rows="4" spellcheck="false">${command}</textarea>
      <button type="button" data-copy="#${id}">Copy</button>
    </div>`;
}

function installSteps(created: CreatedEnrollToken, install: InstallCommand): Html {
  return html`<section class="panel install-steps" aria-labelledby="install-title">
    <h2 id="install-title">On each host</h2>
    <ol>
      <li>
        ${commandBox('token-file-command', 'Save the token in a file (paste it, then Enter and Ctrl-D):', install.tokenFileHint)}
      </li>
      <li>
        ${commandBox('install-command', 'Run the install command in the same directory:', install.command)}
      </li>
    </ol>
    <p class="muted small">
      The command trusts this server only if its CA has SHA-256 fingerprint <code>${install.caSha256}</code>,
      fetches the install script over verified TLS and reads the token from <code>${install.tokenFile}</code>,
      so the token is in no shell history or process list. It needs Node.js 20.19 or newer, curl or wget, and
      root (sudo). Hosts whose names match <strong>${created.hostnameGlobs.join(', ')}</strong> may use it
      ${created.usesAllowed} times.
    </p>
  </section>`;
}

interface View {
  readonly created?: CreatedEnrollToken;
  readonly error?: ErrorView;
  readonly status?: number;
}

function addHostsPage(deps: AddHostsPagesDeps, c: WebContext, ctx: Ctx, view: View): Response {
  const viewer = requireViewer(c, ctx);
  const created = view.created;
  const form = formView({
    action: '/admin/add-hosts',
    viewer,
    fields: tokenFields({ uses: 10 }),
    submit: 'Create token and show the command',
  });
  const body = html`<h1>Add hosts</h1>
    <p class="muted">
      A new host installs the agent and enrolls with one command, run as root on the host. It needs an
      enrollment token: say which hostnames may use it, how often and for how long.
    </p>
    ${
      created === undefined
        ? ''
        : html`${secretOnce(`Enrollment token ${created.id}:`, created.token)}
          ${installSteps(created, deps.bootstrap.installCommand())}`
    }
    ${panel(created === undefined ? 'Enrollment token' : 'Another token', form, created === undefined)}
    <p><a href="/admin/enroll-tokens">All enrollment tokens</a></p>`;
  const page = renderPage(deps.shell, { title: 'Add hosts', viewer, nav: 'add-hosts', body, ...view });
  return htmlResponse(c, page, view.error?.status ?? view.status ?? 200);
}

export function addHostsPages(deps: AddHostsPagesDeps): AnyRoute[] {
  const { shell } = deps;
  return [
    pageRoute(shell, {
      method: 'GET',
      path: '/admin/add-hosts',
      summary: 'Add hosts',
      access: 'fleet.write',
      nav: 'add-hosts',
      handler: ({ c, ctx }) => addHostsPage(deps, c, ctx, {}),
    }),
    pageRoute(shell, {
      method: 'POST',
      path: '/admin/add-hosts',
      summary: 'Create an enrollment token and show the install command',
      access: 'fleet.write',
      nav: 'add-hosts',
      handler: async ({ c, ctx }) => {
        const form = await readForm(c);
        try {
          const created = await deps.enroll.createToken(ctx, parseCreate(form));
          // Rendered, not redirected: the secret exists only in this response.
          return addHostsPage(deps, c, ctx, { created, status: 201 });
        } catch (err) {
          return addHostsPage(deps, c, ctx, { error: errorView(c, err) });
        }
      },
    }),
  ];
}
