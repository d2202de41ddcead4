// A bulk move of 200 applicants in a real browser (section 11): `dit bench --write` makes a trust
// (VPD 100) with 200 applicants; the trust selects all of them on its worklist with checkboxes,
// offers them on one confirmation page, sees 200 outcomes, and a second submit of the same
// confirmation gives 200 duplicates. No JavaScript in the pages.
//
// Run: node --test tests/browser/   (DIT_BIN: the dit binary; CHROMIUM: the browser)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('../../', import.meta.url).pathname;
const dit = process.env.DIT_BIN || join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'debug', 'dit');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'dit-bulk-browser-'));
const files = join(work, 'files');
const data = join(work, 'data');
const COUNT = 200;
let server;
let browser;
let portal;
let signIn;

function run(...args) {
  return execFileSync(dit, args, { cwd: root, encoding: 'utf8' });
}

before(async () => {
  run('bench', '--records', String(COUNT), '--trusts', '1', '--write', files);
  run('--data-dir', data, 'process', files);
  portal = await new Promise((resolve, reject) => {
    server = spawn(dit, ['--data-dir', data, 'serve', '--as', 'trust:100', '--port', '0'], { cwd: root });
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/at (http:\/\/127\.0\.0\.1:\d+)\//);
      const link = out.match(/Sign in[^:]*: (http:\/\/127\.0\.0\.1:\d+\/sign-in\?token=[0-9a-f]+)/);
      if (found && link) {
        signIn = link[1];
        resolve(found[1]);
      }
    });
    server.stderr.on('data', (chunk) => process.stderr.write(chunk));
    server.on('exit', (code) => reject(new Error(`dit serve exited ${code}: ${out}`)));
  });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  server?.kill();
  rmSync(work, { recursive: true, force: true });
});

test('200 applicants offered in one bulk move: 200 outcomes, then 200 duplicates', { timeout: 300_000 }, async () => {
  const page = await browser.newPage();
  const dialogs = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  // dit serve answers only a browser signed in through the link it printed (its session cookie).
  await page.goto(signIn);

  // Hired on 2027-02-03: all 200 are overdue on 2027-03-01.
  await page.goto(`${portal}/worklist?section=overdue&date=2027-03-01`);
  assert.match(await page.locator('h2#rows').textContent(), /Overdue \(200\)/);
  const boxes = page.locator('input[name="applicant"][type="checkbox"]');
  assert.equal(await boxes.count(), COUNT);
  for (let i = 0; i < COUNT; i += 1) await boxes.nth(i).check();
  await page.getByLabel('Move').selectOption('offer');
  await page.getByRole('button', { name: 'Continue with the selected applicants' }).click();

  assert.match(await page.locator('h1').textContent(), /Offer the post: 200 applicants\?/);
  // What the confirmation sends, kept to send it a second time as a double submit would.
  const form = await page.locator('form[action="/bulk"]').evaluate((f) => new URLSearchParams(new FormData(f)).toString());
  await page.getByRole('button', { name: /Confirm: Offer the post for 200 applicants/ }).click();
  assert.match(await page.locator('h1').textContent(), /200 outcomes/);
  assert.equal(await page.locator('tr.outcome').count(), COUNT);
  assert.match(await page.locator('.nhsuk-lede-text').textContent(), /^moved: 200$/);

  const again = await page.request.post(`${portal}/bulk`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    data: form,
  });
  assert.equal(again.status(), 200);
  const html = await again.text();
  assert.equal(html.match(/<tr class="nhsuk-table__row outcome">/g).length, COUNT);
  assert.match(html, /duplicate: 200/);

  const shown = JSON.parse(run('--data-dir', data, 'show', '--json', '5000200'));
  assert.equal(shown[0].applicant.state, 'offered');
  assert.deepEqual(dialogs, []);
  await page.close();
});
