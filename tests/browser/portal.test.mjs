// The portal in a real browser: Debian's chromium driven by playwright-core (both installed by
// scripts/test.sh), against `dit serve` on the sample data. Nothing here needs JavaScript in the
// pages: the browser only clicks links, fills forms and submits them.
//
// Run: node --test tests/browser/   (DIT_BIN: the dit binary; CHROMIUM: the browser)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('../../', import.meta.url).pathname;
const dit = process.env.DIT_BIN || join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'debug', 'dit');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const data = mkdtempSync(join(tmpdir(), 'dit-portal-browser-'));
const servers = [];
let browser;

function run(...args) {
  try {
    return execFileSync(dit, ['--data-dir', data, ...args], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    // `process` of the samples exits 3 (some samples are quarantined on purpose).
    if (error.status === 3) return error.stdout;
    throw error;
  }
}

/** Starts `dit serve --as WHO --port 0` and resolves with its address and sign-in URL. */
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

let trust504;
let trust505;

/** A browser context signed in to one `dit serve` through the URL it printed (the link works once). */
async function signedIn(server) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const response = await page.goto(server.signIn);
  assert.equal(response.status(), 200);
  assert.notEqual(new URL(page.url()).pathname, '/sign-in');
  await page.close();
  return context;
}

let as504;
let as505;

before(async () => {
  run('process', 'events/files/');
  const server504 = await serve('trust:504');
  const server505 = await serve('trust:505');
  trust504 = server504.base;
  trust505 = server505.base;
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  // Without the session cookie every page is 401; the printed link gives the cookie.
  const stranger = await browser.newPage();
  assert.equal((await stranger.goto(`${trust504}/inbox`)).status(), 401);
  await stranger.close();
  as504 = await signedIn(server504);
  as505 = await signedIn(server505);
  const spent = await browser.newPage();
  assert.equal((await spent.goto(server504.signIn)).status(), 401);
  await spent.close();
});

after(async () => {
  await browser?.close();
  for (const child of servers) child.kill();
  rmSync(data, { recursive: true, force: true });
});

function show(number) {
  return JSON.parse(run('show', '--json', number));
}

test('trust 504 finds an applicant by GMC number, offers, accepts and hires it, sees the reminder and downloads the MEDROT', async () => {
  const page = await as504.newPage();
  const dialogs = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });

  // The start page: the coming rotation by state, as a chart (an SVG with its name) and a table.
  await page.goto(`${trust504}/`);
  assert.equal(await page.locator('h1').textContent(), 'The coming rotation');
  assert.equal(await page.getByRole('img', { name: /By state/ }).count(), 1);
  await page.getByRole('link', { name: 'Inbox', exact: true }).first().click();
  assert.equal(await page.locator('h1').textContent(), 'Inbox');
  assert.match(await page.locator('.nhsuk-header__account-item').textContent(), /Trust 504/);
  // The NHS.UK frontend styles (from the nhsuk-frontend package) are served and applied.
  const styles = await page.request.get(`${trust504}/assets/nhsuk-frontend.min.css`);
  assert.equal(styles.status(), 200);
  assert.equal(
    await page.locator('.nhsuk-header').evaluate((e) => getComputedStyle(e).backgroundColor),
    'rgb(0, 94, 184)',
  );

  // Search by GMC number, open the applicant.
  await page.getByRole('link', { name: 'Applicants' }).click();
  await page.getByLabel('Search').fill('7544158');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: '5000001' }).click();
  assert.match(await page.locator('h1').textContent(), /loaded/);

  // Offer (with an effective date), confirm; then accept; then hire as Employee.
  const offer = page.locator('form[action="/applicants/5000001/offer"]');
  await offer.getByLabel('Day').fill('2');
  await offer.getByLabel('Month').fill('12');
  await offer.getByLabel('Year').fill('2026');
  await offer.getByRole('button', { name: 'Offer the post' }).click();
  assert.match(await page.locator('h1').textContent(), /Offer the post/);
  assert.match(await page.locator('.nhsuk-summary-list').textContent(), /02\/12\/2026/);
  await page.getByRole('button', { name: /Confirm/ }).click();
  assert.match(await page.locator('.nhsuk-notification-banner').textContent(), /Done: offer/);
  assert.match(await page.locator('h1').textContent(), /offered/);

  await page.getByRole('button', { name: 'Record the offer as accepted' }).click();
  await page.getByRole('button', { name: /Confirm/ }).click();
  assert.match(await page.locator('h1').textContent(), /accepted/);

  await page.getByLabel('Employee').check();
  await page.getByRole('button', { name: 'Hire' }).click();
  await page.getByRole('button', { name: /Confirm/ }).click();
  assert.match(await page.locator('h1').textContent(), /hired/);
  const history = await page.locator('table').last().textContent();
  assert.match(history, /hire/);
  assert.match(history, /\(trust 504, portal\)/);
  assert.equal(show('5000001')[0].applicant.state, 'hired');

  // The new-starter reminder written by the daily job shows in the inbox, unread.
  run('remind', '--date', '2027-01-29');
  await page.getByRole('link', { name: 'Inbox', exact: true }).click();
  const reminder = page.getByRole('link', { name: /Deanery - Jnr\. Doctor Starter\(s\)/ });
  await reminder.click();
  assert.match(await page.locator('h1').textContent(), /Deanery - Jnr\. Doctor Starter\(s\) \(504\)/);

  // The MEDROT downloads through the portal.
  await page.getByRole('link', { name: 'Inbox', exact: true }).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('a[href^="/downloads/medrot/"]').first().click(),
  ]);
  assert.match(download.suggestedFilename(), /^DE_KSS_504_MEDROT_.*\.xlsx$/);
  const bytes = readFileSync(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  assert.deepEqual(dialogs, []);
  await page.close();
});

test('trust 505 gets 404 for 504\'s applicant page and move URL, and nothing changes', async () => {
  const before = JSON.stringify(show('5000002'));
  const page = await as505.newPage();
  const response = await page.goto(`${trust505}/applicants/5000002`);
  assert.equal(response.status(), 404);
  const missing = await page.goto(`${trust505}/applicants/9999999`);
  assert.equal(missing.status(), 404);
  const confirm = await page.goto(`${trust505}/applicants/5000002/offer`);
  assert.equal(confirm.status(), 404);
  // A form post to the move URL, as another site or a crafted page would send it.
  const posted = await page.request.post(`${trust505}/applicants/5000002/offer`, {
    form: { action_id: 'portal-0123456789abcdef0123456789abcdef', csrf: '00' },
  });
  assert.equal(posted.status(), 404);
  assert.equal(JSON.stringify(show('5000002')), before);
  await page.close();
});

test('a search containing <script> comes back escaped', async () => {
  const page = await as504.newPage();
  const dialogs = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  const response = await page.goto(`${trust504}/applicants?q=${encodeURIComponent('<script>alert(1)</script>')}`);
  const html = await response.text();
  assert.ok(!html.includes('<script'), 'no script element in the page');
  assert.match(html, /(&lt;|&#60;)script(&gt;|&#62;)alert\(1\)(&lt;|&#60;)\/script(&gt;|&#62;)/, 'the search text is escaped');
  assert.equal(await page.getByLabel('Search').inputValue(), '<script>alert(1)</script>');
  assert.equal(await page.locator('script').count(), 0);
  assert.deepEqual(dialogs, []);
  await page.close();
});

test('a local office\'s data team sees its own files read-only and gets 404 for another office\'s file', async () => {
  const kssServer = await serve('local-office:KSS');
  const ldnServer = await serve('local-office:LDN');
  const kss = await signedIn(kssServer);
  const ldn = await signedIn(ldnServer);
  const file = 'DE_KSS_APP_20261121_00000042.DAT';

  const page = await kss.newPage();
  await page.goto(`${kssServer.base}/`);
  assert.equal(await page.locator('h1').textContent(), 'Files');
  assert.match(await page.locator('.nhsuk-header__account-item').textContent(), /Local office KSS/);
  await page.getByRole('link', { name: file }).click();
  assert.equal(new URL(page.url()).pathname, `/operator/files/${file}`);
  // Read-only: an applicant's page has no move forms, and a move URL is not found.
  const applicant = await page.goto(`${kssServer.base}/applicants/5000002`);
  assert.equal(applicant.status(), 200);
  assert.equal(await page.locator('form[action^="/applicants/5000002/"]').count(), 0);
  assert.equal((await page.goto(`${kssServer.base}/applicants/5000002/offer`)).status(), 404);
  assert.equal((await page.goto(`${kssServer.base}/inbox`)).status(), 404);
  await page.close();

  // LDN's data team: KSS's file, its quarantine entries and its applicants are not found.
  const other = await ldn.newPage();
  const missing = await other.goto(`${ldnServer.base}/operator/files/DE_LDN_APP_20261121_00000001.DAT`);
  assert.equal(missing.status(), 404);
  const missingText = await other.locator('main').textContent();
  const response = await other.goto(`${ldnServer.base}/operator/files/${file}`);
  assert.equal(response.status(), 404);
  assert.equal(await other.locator('main').textContent(), missingText);
  await other.goto(`${ldnServer.base}/operator/files`);
  assert.equal(await other.getByRole('link', { name: file }).count(), 0);
  await other.goto(`${ldnServer.base}/operator/quarantine`);
  assert.equal(await other.getByText('DE_KSS_APP_').count(), 0);
  assert.equal((await other.goto(`${ldnServer.base}/applicants/5000002`)).status(), 404);
  await other.close();
  await kss.close();
  await ldn.close();
});
