import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../test/helpers/deadline.ts';
import { DiagnosticSink } from './diagnostics.ts';
import { checkUrls } from './url-check.ts';

const held = new Set<net.Socket>();
const received: string[] = [];
const site = http.createServer((req, res) => {
  received.push(req.url ?? '');
  if (req.url?.startsWith('/ok')) res.writeHead(200).end();
  // anything else never answers
});
site.on('connection', (s) => {
  held.add(s);
  s.once('close', () => held.delete(s));
});
let origin = '';

before(async () => {
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(site.address() as net.AddressInfo).port}`;
});
after(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((resolve) => site.close(() => resolve()));
});

const at = (line: number) => ({ file: 'configcrates/a.vgo', line, col: 13 });

describe('checkUrls', () => {
  it('probes each distinct URL once and reports every place naming a dead one', async () => {
    const sink = new DiagnosticSink();
    await checkUrls(
      [
        { text: `${origin}/ok`, at: at(1) },
        { text: `${origin}/ok`, at: at(2) },
        { text: `${origin}/missing-host-answer`, at: at(3) },
        { text: `${origin}/missing-host-answer`, at: at(4) },
      ],
      { timeoutMs: 300, concurrency: 2 },
      sink,
    );
    const list = sink.list();
    assert.deepEqual(
      list.map((d) => `${d.severity} ${d.code} ${d.line}`),
      ['error url.unreachable 3', 'error url.unreachable 4'],
    );
  });

  it('keeps to the concurrency limit', async () => {
    // Six URLs that never answer, two lanes, a budget shorter than one probe: only two are ever sent.
    const urls = Array.from({ length: 6 }, (_, i) => ({ text: `${origin}/hang-${i}`, at: at(i + 1) }));
    const sink = new DiagnosticSink();
    await checkUrls(urls, { timeoutMs: 5_000, concurrency: 2, budgetMs: 300 }, sink);
    const hung = () => received.filter((u) => u.startsWith('/hang-'));
    await waitFor('the two probes to arrive', () => (hung().length >= 2 ? true : undefined));
    assert.deepEqual(hung().sort(), ['/hang-0', '/hang-1']);
    assert.equal(sink.list().filter((d) => d.code === 'url.unchecked').length, 4);
  });

  it('leaves URLs the budget did not reach as url.unchecked warnings', async () => {
    const sink = new DiagnosticSink();
    const urls = Array.from({ length: 4 }, (_, i) => ({ text: `${origin}/stall-${i}`, at: at(i + 1) }));
    await checkUrls(urls, { timeoutMs: 5_000, concurrency: 1, budgetMs: 250 }, sink);
    const codes = sink.list().map((d) => `${d.severity} ${d.code}`);
    assert.equal(codes[0], 'error url.unreachable', 'the first probe is cut at the budget');
    assert.ok(codes.length === 4 && codes.slice(1).every((c) => c === 'warning url.unchecked'), codes.join());
  });
});
