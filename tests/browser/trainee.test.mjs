// The trainee's own view (section 13) in a real browser: a doctor in training signs in to
// `dit serve --as trainee:<GMC>` on the sample data, sees their placement and the details held,
// reports a problem (plain form post, no JavaScript), and gets 404 for anyone else's applicant.
// The trust then finds the report in its inbox.
//
// Run: node --test tests/browser/   (DIT_BIN: the dit binary; CHROMIUM: the browser;
// DIT_SCREENSHOTS=1 also writes docs/images/trainee.png)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('../../', import.meta.url).pathname;
const dit = process.env.DIT_BIN || join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'debug', 'dit');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const data = mkdtempSync(join(tmpdir(), 'dit-trainee-browser-'));
const servers = [];
let browser;

// The sample trainee of applicant 5000001 (trust 504); 5000002 is another doctor.
const GMC = '7544158';
const OWN = '5000001';
const OTHER = '5000002';

function run(...args) {
  try {
    return execFileSync(dit, ['--data-dir', data, ...args], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    // `process` of the samples exits 3 (some samples are quarantined on purpose).
    if (error.status === 3) return error.stdout;
    throw error;
  }
}

/** `dit serve --as WHO --port 0`: resolves with its address and one-time sign-in URL. */
function serve(who) {
  return new Promise((resolve, reject) => {
    const child = spawn(dit, ['--data-dir', data, 'serve', '--as', who, '--port', '0'], { cwd: root });
    servers.push(child);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/at (http:\/\/127\.0\.0\.1:\d+)\//);
      const signIn = out.match(/Sign in[^:]*: (http:\/\/127\.0\.0\.1:\d+\/sign-in\?token=[0-9a-f]+)/);
      if (found && signIn) resolve({ base: found[1], signIn: signIn[1] });
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.on('exit', (code) => reject(new Error(`dit serve --as ${who} exited ${code}: ${out}`)));
  });
}

async function signedIn(server) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  assert.equal((await page.goto(server.signIn)).status(), 200);
  await page.close();
  return context;
}

before(async () => {
  run('process', 'events/files/');
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  for (const child of servers) child.kill();
  rmSync(data, { recursive: true, force: true });
});

test('a trainee sees their placement, reports a problem once, and gets 404 for another applicant', async () => {
  const server = await serve(`trainee:${GMC}`);
  const context = await signedIn(server);
  const page = await context.newPage();

  await page.goto(`${server.base}/`);
  assert.equal(await page.locator('h1').textContent(), 'Your placements');
  assert.match(await page.locator('.nhsuk-header__account-item').textContent(), /Doctor in training/);
  // The only menu entry is their own placements.
  assert.deepEqual(await page.locator('.nhsuk-header__navigation-link').allTextContents(), ['Your placements']);
  assert.equal(await page.locator(`a[href="/my/placements/${OTHER}"]`).count(), 0);
  await page.locator(`a[href="/my/placements/${OWN}"]`).click();
  assert.equal(new URL(page.url()).pathname, `/my/placements/${OWN}`);
  assert.match(await page.locator('h1').textContent(), /Your placement at Example Hospital NHS Trust/);
  const main = await page.locator('main').textContent();
  assert.match(main, /Your personal details held/);
  assert.match(main, /Date of birth/);
  assert.match(main, /\d{2}\/\d{2}\/\d{4}/);
  assert.doesNotMatch(main, /History|Employment checks/);
  if (process.env.DIT_SCREENSHOTS) {
    mkdirSync(join(root, 'docs/images'), { recursive: true });
    await page.screenshot({ path: join(root, 'docs/images/trainee.png'), fullPage: true });
  }

  // An empty report is refused on the form; a real one is sent, and sending it again is not a
  // second query.
  await page.getByRole('button', { name: /Send the report/ }).click();
  assert.match(await page.locator('.nhsuk-error-summary').textContent(), /Enter what is wrong/);
  await page.getByLabel('What is wrong?').fill('My middle name is missing.');
  await page.getByRole('button', { name: /Send the report/ }).click();
  assert.equal(await page.locator('h1').textContent(), 'Report sent');
  await page.getByRole('link', { name: 'Back to your placement', exact: true }).click();
  await page.getByLabel('What is wrong?').fill('My middle name is missing.');
  await page.getByRole('button', { name: /Send the report/ }).click();
  assert.match(await page.locator('main').textContent(), /already sent this report/);

  // Another doctor's applicant, on the trainee pages or the staff's, and the staff pages: 404.
  for (const path of [`/my/placements/${OTHER}`, `/applicants/${OTHER}`, `/applicants/${OWN}`, '/inbox', '/operator/files']) {
    assert.equal((await page.goto(`${server.base}${path}`)).status(), 404, path);
  }
  await context.close();

  // The trust reads it in its inbox, once.
  const trust = await serve('trust:504');
  const staff = await signedIn(trust);
  const inbox = await staff.newPage();
  await inbox.goto(`${trust.base}/inbox`);
  const queries = inbox.getByRole('link', { name: /Trainee data query/ });
  assert.equal(await queries.count(), 1);
  await queries.click();
  assert.match(await inbox.locator('main').textContent(), /My middle name is missing\./);
  await staff.close();
});
