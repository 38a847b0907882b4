/**
 * The Compliance pages in a real browser (Debian's chromium through playwright-core) against a real vigosrv
 * and a real `vigo` agent: the stacks claim controls and carry an active and an expired waiver; after the
 * agent converges, /compliance (reached from the navigation) shows a gauge per framework and the waivers
 * with the expired one highlighted, and the envoy page shows the risk score beside its formula and links to
 * the envoy's controls with their claiming resources.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createEnrollToken } from '../helpers/agent-client.ts';
import {
  browserSkipReason,
  laptopContext,
  launchChromium,
  requireChromium,
  screenshot,
} from '../helpers/browser.ts';
import type { ReadyServer } from '../helpers/server-process.ts';
import { makeTempDir, repoRoot, startServer } from '../helpers/server-process.ts';
import { cleanCliEnv } from '../helpers/vigocli.ts';

const vigoBin = join(repoRoot, 'bin', 'vigo');
const serverDir = makeTempDir('vigo-cui-srv-');
const work = makeTempDir('vigo-cui-work-');
const admin = { username: 'ada', password: 'correct horse battery staple' };
const stateDir = join(work.path, 'state-web');

let server: ReadyServer;
let browser: Browser;
let page: Page;

function vigo(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      vigoBin,
      [...args, '--state-dir', stateDir, '--log-level', 'warn'],
      { env: cleanCliEnv(work.path), timeout: 60_000 },
      (err, _stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }),
    );
  });
}

function writeStack(): string {
  const dir = join(work.path, 'stack');
  mkdirSync(join(work.path, 'managed'), { recursive: true });
  const files: Record<string, string> = {
    'configcrates/motd.vgo': `name: motd
compliance:
  cis: ["1.1.1"]
  nist-800-53: [CM-6]
resources:
  - name: motd
    type: file
    target_path: ${join(work.path, 'managed', 'motd')}
    content: "managed by vigo\\n"
`,
    'envoys.vgo': 'envoys:\n  - match: "cu-*"\n    configcrates: [motd]\n',
    'compliance.vgo': `waivers:
  - match: "cu-*"
    framework: nist-800-53
    control: CM-6
    reason: baseline review pending
    owner: secops
    expires: 2099-12-31
  - match: "cu-*"
    framework: cis
    control: "1.1.1"
    reason: old exception
    owner: secops
    expires: 2020-01-01
`,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const skip = browserSkipReason();

before(async () => {
  if (skip !== undefined) return;
  requireChromium();
  server = await startServer({
    dataDir: serverDir.path,
    args: ['--stacks', writeStack(), '--publish-at-start'],
  });
  const token = await createEnrollToken(server, ['cu-*'], 1);
  const caFile = join(serverDir.path, 'tls', 'ca.crt');
  const address = `127.0.0.1:${server.apiPort}`;
  const enrolled = await vigo([
    'enroll',
    '--server',
    address,
    '--token',
    token,
    '--ca',
    caFile,
    '--hostname',
    'cu-web-1',
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const run = await vigo(['run', '--once']);
  assert.equal(run.code, 0, run.stderr);
  browser = await launchChromium(readFileSync(join(serverDir.path, 'tls', 'server.crt'), 'utf8'));
  page = await (await laptopContext(browser)).newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  serverDir.remove();
  work.remove();
});

describe('compliance pages against a real server and agent', { skip }, () => {
  it('signs in and reaches Compliance from the navigation: gauges, no failing control, expired waiver highlighted', async () => {
    const line = await server.waitForLog('the admin bootstrap secret', (l) =>
      l.msg.startsWith('admin bootstrap secret'),
    );
    await page.goto(`${server.apiUrl}/setup`);
    await page.getByLabel('Bootstrap secret').fill(readFileSync(line['file'] as string, 'utf8').trim());
    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Password again').fill(admin.password);
    await page.getByRole('button', { name: 'Create admin' }).click();
    // Setup signs the new admin in.
    await page.waitForURL(`${server.apiUrl}/`);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Compliance' }).click();
    await page.getByRole('heading', { name: 'Compliance', level: 1 }).waitFor();
    assert.equal(await page.locator('#gauge-cis').getAttribute('value'), '100');
    assert.equal(await page.locator('#gauge-nist-800-53').getAttribute('value'), '100');
    assert.match(await page.locator('.gauges').innerText(), /cis 100\.0%[\s\S]*nist-800-53 100\.0%/);
    assert.match(
      await page.locator('section', { hasText: 'Failing controls' }).innerText(),
      /No control fails/,
    );
    const expired = page.locator('table.waivers tr.row-expired');
    assert.equal(await expired.count(), 1);
    assert.match(await expired.innerText(), /1\.1\.1[\s\S]*2020-01-01[\s\S]*expired/);
    assert.equal(await page.locator('table.waivers tbody tr:not(.row-expired)').count(), 1);
    await screenshot(page, 'compliance');
  });

  it('shows the risk score beside its formula on the envoy page and links to its controls', async () => {
    await page.goto(`${server.apiUrl}/envoys`);
    await page.getByRole('link', { name: 'cu-web-1' }).click();
    const section = page.locator('section', { hasText: 'Risk score' });
    await section.waitFor();
    assert.match(await section.innerText(), /Risk score\s+\d+(\.\d)? \/ 100/);
    assert.match(await section.innerText(), /50 × failing\/claimed controls/);
    await section.getByRole('link', { name: 'Controls and claiming resources' }).click();
    await page.getByRole('heading', { name: 'Compliance of cu-web-1' }).waitFor();
    const cis = page.locator('section', { hasText: 'cis' }).first();
    assert.match(await cis.innerText(), /1\.1\.1\s+enforced\s+motd\/motd\s+created/);
    const nist = page.locator('section', { hasText: 'nist-800-53' }).first();
    assert.match(await nist.innerText(), /CM-6\s+waived/);
    await screenshot(page, 'compliance-envoy');
  });
});
