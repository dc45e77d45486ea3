// Drives the hemobridge web portal in a real Chromium (Debian's
// /usr/bin/chromium through playwright-core; no downloaded browser).
//
//   node portal.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR
//
// Steps: a wrong password shows the generic error; log in; upload a CSV
// in the portal template with one bad row and see that row in the report;
// upload the fixed file and see success; enter a receipt form with an
// invalid field and see the message beside it, then fix it. Screenshots of
// the main pages go to SCREENSHOT_DIR/portal-*.png. On success it prints
// one JSON line with the DINs entered, which the Rust test then checks
// through the trace API. Any failed expectation exits non-zero.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, user, password, shots] = process.argv.slice(2);
if (!base || !user || !password || !shots) {
  console.error('usage: node portal.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Unique per run, so that repeated runs against one database stay apart.
const seq = String(Date.now() % 1000000).padStart(6, '0');
const uploadDin = `W0427${seq.slice(0, 2)}${seq}`.slice(0, 13);
const formDin = `W0428${seq.slice(0, 2)}${seq}`.slice(0, 13);

const header =
  '业务类型,发生时间,血袋号,血液品种,ABO血型,Rh血型,数量,计量单位,容量(mL),有效期,来源机构,去向机构,' +
  '患者编号,患者姓名,身份证号,性别,出生日期,病区,配血结果,输注开始,输注结束,诊断,原因,不良反应类型,严重程度,转归';
const receiptRow = (din, abo) =>
  `入库,2026-11-24 08:30,${din},悬浮少白细胞红细胞,${abo},Rh阳性,2,单位,400,2026-12-29,S3201,,,,,,,,,,,,,,,`;
const csv = (abo) => Buffer.from(`\ufeff${header}\n${receiptRow(uploadDin, abo)}\n`, 'utf8');

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Running as root in CI containers needs --no-sandbox.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: join(shots, `portal-${name}.png`) });

  // Log in: wrong password first.
  await page.goto(`${base}/login`);
  await page.fill('#username', user);
  await page.fill('#password', 'not-the-password');
  await page.click('#submit');
  const loginError = await page.textContent('#login-error');
  expect(loginError && loginError.includes('用户名或密码错误'), `no generic login error: ${loginError}`);
  await page.fill('#password', '');
  await shot('login');

  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('#submit');
  await page.waitForURL(`${base}/`);
  expect(await page.isVisible('text=入库 (Receipt)'), 'home page has no receipt link');
  await shot('home');

  // Upload a CSV with one bad row: nothing imported, the row is reported.
  await page.goto(`${base}/portal/upload`);
  await page.setInputFiles('#file', { name: '入库-错误.csv', mimeType: 'text/csv', buffer: csv('C') });
  await page.click('#submit');
  await page.waitForSelector('#upload-report');
  const report = await page.textContent('#upload-report');
  expect(report.includes('ABO') && report.includes('2'), `the report does not name row 2's ABO: ${report}`);
  await shot('upload-report');

  // The fixed file goes in.
  await page.setInputFiles('#file', { name: '入库.csv', mimeType: 'text/csv', buffer: csv('O型') });
  await page.click('#submit');
  await page.waitForSelector('#success');
  const uploaded = await page.textContent('#success');
  expect(uploaded.includes('上传成功'), `upload not accepted: ${uploaded}`);

  // A receipt form with an invalid volume: the message sits beside it.
  await page.goto(`${base}/portal/forms/receipt`);
  await page.fill('#unit', formDin);
  await page.selectOption('#product', 'RBC-LR');
  await page.selectOption('#abo', 'A');
  await page.selectOption('#rh', '-');
  await page.fill('#volumeMl', '两百');
  await page.fill('#quantity', '1');
  await page.fill('#from', 'S3201');
  await page.fill('#at', '2026-11-24T09:30');
  await page.click('#submit');
  await page.waitForSelector('#error-volumeMl');
  const fieldError = await page.textContent('#error-volumeMl');
  expect(fieldError.includes('整数'), `unexpected field message: ${fieldError}`);
  expect((await page.inputValue('#unit')) === formDin, 'the typed DIN was not kept');
  await shot('form-error');

  await page.fill('#volumeMl', '200');
  await page.click('#submit');
  await page.waitForSelector('#success');
  const entered = await page.textContent('#success');
  expect(entered.includes('回执号'), `form not accepted: ${entered}`);

  await page.goto(`${base}/portal/history`);
  await page.waitForSelector('#history');
  await shot('history');

  console.log(JSON.stringify({ ok: true, uploadDin, formDin }));
} catch (e) {
  // What the page showed when an expectation failed, for the test's log.
  for (const p of browser.contexts().flatMap((c) => c.pages())) {
    const text = await p.innerText('body').catch(() => '');
    console.error(`--- ${p.url()}\n${text.slice(0, 3000)}`);
  }
  throw e;
} finally {
  await browser.close();
}
