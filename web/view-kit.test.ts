import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Actor } from '../server/core/index.ts';
import { hasPermission } from '../server/identity/index.ts';
import type { Viewer } from './page-kit.ts';
import {
  actionButton,
  badge,
  confirmStep,
  copyable,
  dataTable,
  emptyState,
  field,
  formView,
  panel,
} from './page-kit.ts';

const xss = '<script>alert(1)</script>';

function viewer(csrfToken: string | undefined = 'tok"en'): Viewer {
  const actor: Actor = { kind: 'user', userId: 'usr_1', username: 'ann', role: 'admin' };
  return { actor, name: 'ann', role: 'admin', csrfToken, can: (p) => hasPermission(actor, p) };
}

/** The markup with runs of white space as one space and none before `>`: what a browser would parse. */
function flat(h: { text: string }): string {
  return h.text.replace(/\s+/g, ' ').replace(/\s+>/g, '>');
}

interface Row {
  readonly name: string;
  readonly size: number;
}

describe('dataTable', () => {
  const columns = [
    { header: 'Name', rowHeader: true, cell: (r: Row) => r.name },
    { header: 'Size', className: 'num', cell: (r: Row) => r.size },
    { header: 'Secret', when: false, cell: () => 'hidden column' },
    { header: 'Actions', hiddenHeader: true, cell: () => 'act' },
  ];

  it('renders declared columns in a scroll box, row headers as th, and leaves out columns turned off', () => {
    const out = flat(
      dataTable({
        caption: 'Things',
        columns,
        rows: [{ name: xss, size: 3 }],
        empty: 'nothing',
      }),
    );
    assert.match(out, /^<div class="table-wrap" role="region" aria-label="Things" tabindex="0">/);
    assert.match(out, /<th scope="row">&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/th>/);
    assert.match(out, /<td class="num">3<\/td>/);
    assert.match(out, /<th scope="col"><span class="visually-hidden">Actions<\/span><\/th>/);
    assert.equal(out.includes('hidden column'), false);
    assert.equal(out.includes('Secret'), false);
    assert.equal(out.includes('<script>'), false);
  });

  it('shows the empty state instead of an empty table', () => {
    const out = flat(dataTable({ caption: 'Things', columns, rows: [], empty: `none ${xss}` }));
    assert.equal(out.includes('<table'), false);
    assert.match(out, /class="empty-state"/);
    assert.match(out, /none &lt;script&gt;/);
  });

  it('marks rows with the class the page asks for', () => {
    const out = flat(
      dataTable({
        caption: 'T',
        columns,
        rows: [
          { name: 'a', size: 1 },
          { name: 'b', size: 2 },
        ],
        empty: '',
        rowClass: (r) => (r.size > 1 ? 'row-big' : undefined),
      }),
    );
    assert.equal(out.match(/<tr class="row-big">/g)?.length, 1);
  });
});

describe('field and formView', () => {
  it('ties the label and the help text to the control and escapes values', () => {
    const out = flat(
      field({
        kind: 'text',
        name: 'globs',
        label: 'Hostnames',
        value: `"${xss}`,
        help: 'globs, separated by commas',
        required: true,
        maxLength: 10,
      }),
    );
    assert.match(out, /<label for="globs">Hostnames<\/label>/);
    assert.match(out, /id="globs" name="globs" required aria-describedby="globs-help"/);
    assert.match(out, /maxlength="10"/);
    assert.match(out, /<p id="globs-help" class="muted small">/);
    assert.match(out, /value="&quot;&lt;script&gt;/);
  });

  it('selects the chosen option', () => {
    const out = flat(
      field({
        kind: 'select',
        name: 'role',
        label: 'Role',
        options: [
          { value: 'admin', label: 'admin' },
          { value: 'viewer', label: 'viewer' },
        ],
        selected: 'viewer',
      }),
    );
    assert.match(out, /<option value="viewer" selected>viewer<\/option>/);
    assert.match(out, /<option value="admin">admin<\/option>/);
  });

  it('adds the CSRF token to posts but never to GET forms', () => {
    const post = flat(formView({ action: '/x', viewer: viewer(), fields: [], submit: 'Go' }));
    assert.match(post, /name="_csrf" value="tok&quot;en"/);
    assert.match(post, /class="grid-form"/);
    const get = flat(
      formView({
        action: '/x',
        method: 'get',
        viewer: viewer(),
        layout: 'filters',
        fields: [{ kind: 'text', name: 'q', label: 'Query' }],
        submit: 'Filter',
      }),
    );
    assert.equal(get.includes('_csrf'), false);
    assert.match(get, /role="search"/);
    assert.match(get, /<div class="field"><label for="q">/);
  });

  it('asks before sending when the form says so', () => {
    const out = flat(
      formView({ action: '/x', viewer: viewer(), fields: [], submit: 'Go', confirm: `Sure? ${xss}` }),
    );
    assert.match(out, /data-confirm="Sure\? &lt;script&gt;/);
  });
});

describe('actions and confirmation', () => {
  it('actionButton posts with the token, hidden fields and the confirmation question', () => {
    const out = flat(
      actionButton({
        action: '/admin/x/1/revoke',
        viewer: viewer(),
        label: 'Revoke',
        confirm: 'Revoke it?',
        tone: 'danger',
        hidden: { action: 'delete' },
      }),
    );
    assert.match(out, /action="\/admin\/x\/1\/revoke"/);
    assert.match(out, /data-confirm="Revoke it\?"/);
    assert.match(out, /name="_csrf"/);
    assert.match(out, /name="action" value="delete"/);
    assert.match(out, /class="small danger"/);
  });

  it('confirmStep posts confirmed=yes and offers a way back', () => {
    const out = flat(
      confirmStep({
        title: 'Roll back to version 3?',
        body: 'Two envoys change.',
        action: '/config/rollback',
        viewer: viewer(),
        confirmLabel: 'Roll back',
        cancelHref: '/config',
        hidden: { version: '3' },
      }),
    );
    assert.match(out, /name="version" value="3"/);
    assert.match(out, /name="confirmed" value="yes"/);
    assert.match(out, /<a href="\/config">Cancel<\/a>/);
    assert.match(out, /Two envoys change\./);
  });
});

describe('small pieces', () => {
  it('copyable shortens the value but copies all of it', () => {
    const hash = 'a'.repeat(64);
    const out = copyable(hash, 8).text;
    assert.match(out, />aaaaaaaa…</);
    assert.match(out, new RegExp(`data-copy-text="${hash}"`));
    assert.equal(copyable('short').text.includes('…'), false);
  });

  it('badge, panel and emptyState escape their text', () => {
    assert.match(badge('revoked').text, /badge-bad/);
    assert.match(badge('constructor').text, /badge-muted/);
    assert.equal(panel(xss, 'x').text.includes('<script>'), false);
    assert.equal(panel('t', 'x', false).text.includes(' open'), false);
    assert.equal(emptyState(xss, xss).text.includes('<script>'), false);
  });
});
