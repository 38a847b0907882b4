import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Html, escapeHtml, html, joinHtml } from './html.ts';

const hostile = `<script>alert("x")</script>' onmouseover='steal()' &amp;`;

describe('html', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const out = html`<p title="${hostile}">${hostile}</p>`.text;
    assert.equal(out.includes('<script>'), false);
    assert.equal(out.includes(`"x"`), false);
    assert.equal(out.includes(`' onmouseover`), false);
    assert.equal(
      out,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;steal()&#39; &amp;amp;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;steal()&#39; &amp;amp;</p>',
    );
  });

  it('inserts nested fragments and arrays of them as they are, and escapes strings inside arrays', () => {
    const items = ['<b>', html`<i>ok</i>`];
    assert.equal(html`<div>${items}${html`<br />`}</div>`.text, '<div>&lt;b&gt;<i>ok</i><br /></div>');
  });

  it('renders numbers, and nothing for false, null and undefined', () => {
    const hidden = false;
    assert.equal(html`${1.5}|${hidden && html`<x></x>`}|${null}|${undefined}|${0}`.text, '1.5||||0');
  });

  it('cannot be forged: Html is made only by the template', () => {
    const Forge = Html as unknown as new (key: symbol, text: string) => Html;
    assert.throws(() => new Forge(Symbol('html'), '<script>'), TypeError);
  });

  it('joins with an escaped separator', () => {
    assert.equal(joinHtml([html`<i>a</i>`, 'b&c'], ' & ').text, '<i>a</i> &amp; b&amp;c');
  });

  it('escapeHtml leaves plain text alone', () => {
    assert.equal(escapeHtml('web-01.example.com'), 'web-01.example.com');
  });
});
