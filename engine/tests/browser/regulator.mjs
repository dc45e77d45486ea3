// Drives the regulator's views of the hemobridge portal in a real Chromium
// (Debian's /usr/bin/chromium through playwright-core).
//
//   node regulator.mjs BASE_URL USER PASSWORD DIN SCREENSHOT_DIR
//
// Steps: log in as a regulator; search the DIN and see its timeline with
// the complete/incomplete badge; open the completeness table, drill down
// into the first rule with units and follow a unit to its timeline;
// download the completeness CSV and check its BOM and header; open the
// province and stock pages. Screenshots go to SCREENSHOT_DIR/regulator-*.png.
// On success it prints one JSON line the Rust test checks. Any failed
// expectation exits non-zero.

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [base, user, password, din, shots] = process.argv.slice(2);
if (!base || !user || !password || !din || !shots) {
  console.error('usage: node regulator.mjs BASE_URL USER PASSWORD DIN SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  // Running as root in CI containers needs --no-sandbox.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: join(shots, `regulator-${name}.png`), fullPage: true });

  await page.goto(`${base}/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('#submit');
  await page.waitForURL(`${base}/`);
  expect(await page.isVisible('text=监管与管理视图'), 'no regulator landing page');

  // Search a DIN: its timeline, in order, with the badge.
  await page.click('a.tile[href="/portal/regulator/trace"]');
  await page.fill('input[name=din]', din);
  await page.click('form.search button');
  await page.waitForSelector('ol.timeline');
  const timeline = await page.textContent('ol.timeline');
  expect(timeline.includes('入库') && timeline.includes('输血'), `timeline lacks steps: ${timeline}`);
  const badge = await page.textContent('.unit h2 .badge');
  expect(badge.includes('完整'), `no completeness badge: ${badge}`);
  await shot('trace');

  // The completeness table, then the units of the first rule with any.
  await page.click('.rnav a[href="/portal/regulator/completeness"]');
  await page.waitForSelector('#completeness');
  const share = await page.textContent('#total-share');
  await shot('completeness');
  const drill = page.locator('td.rule a').first();
  expect((await drill.count()) === 1, 'no rule with units to drill into');
  const rule = await drill.evaluate((a) => a.closest('td').dataset.rule);
  await drill.click();
  await page.waitForSelector('#rule-units');
  const firstUnit = page.locator('#rule-units td a').first();
  const drillDin = (await firstUnit.textContent()).trim();
  await shot('rule-units');
  await firstUnit.click();
  await page.waitForSelector('ol.timeline');
  expect((await page.textContent('h2')).includes(drillDin), 'the drill-down link does not open that unit');

  // Download the completeness CSV.
  await page.goto(`${base}/portal/regulator/completeness`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const bytes = readFileSync(await download.path());
  expect(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, 'the CSV has no UTF-8 BOM');
  const csvText = bytes.subarray(3).toString('utf8');
  const csvHeader = csvText.split('\n')[0];
  expect(csvHeader.startsWith('医院代码,医院名称'), `unexpected CSV header: ${csvHeader}`);

  // The province and stock pages open.
  await page.click('.rnav a[href="/portal/regulator/province"]');
  await page.waitForSelector('#province');
  await shot('province');
  await page.click('.rnav a[href="/portal/regulator/stock"]');
  await page.waitForSelector('#stock');
  await shot('stock');

  console.log(
    JSON.stringify({
      ok: true,
      share: share.trim(),
      rule,
      drillDin,
      csvFile: download.suggestedFilename(),
      csvLines: csvText.trim().split('\n').length,
    }),
  );
} finally {
  await browser.close();
}
