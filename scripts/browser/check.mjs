// check.mjs opens spot's HTML reports in Debian's headless Chromium and
// checks them as a person would see them:
//
//   node check.mjs [--screenshot PNG] [--expect-map] [--hostile TEXT]... REPORT.html...
//
// For each report: it renders with no console error and no uncaught
// exception; every request but the file itself is blocked, and there must
// be none; the ingest chart, the timelines and the chord diagram are drawn
// (the map too with --expect-map); sorting by a column orders the rows and
// reverses on a second click; the search box keeps only matching rows; each
// --hostile string shows as text somewhere on the page, and nothing it
// carries runs (no dialog, no window.__pwned, no element it would inject).
// It prints one JSON line per report and exits 1 on the first failure.
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const files = [];
const hostile = [];
let screenshot = '';
let expectMap = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--screenshot') screenshot = args[++i];
  else if (args[i] === '--hostile') hostile.push(args[++i]);
  else if (args[i] === '--expect-map') expectMap = true;
  else files.push(args[i]);
}
if (!files.length) {
  console.error('usage: node check.mjs [--screenshot PNG] [--expect-map] [--hostile TEXT]... REPORT.html...');
  process.exit(2);
}

function fail(file, msg) {
  console.error(`check.mjs: ${file}: ${msg}`);
  process.exitCode = 1;
  throw new Error(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (const file of files) {
    const url = pathToFileURL(file).href;
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors = [];
    const blocked = [];
    const dialogs = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u === url) return route.continue();
      blocked.push(u);
      return route.abort();
    });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 }).catch(() => fail(file, 'the page never finished drawing: ' + errors.join('; ')));
    await page.waitForTimeout(200);

    const count = (sel) => page.locator(sel).count();
    const result = { file };
    result.rows = await count('#list tbody tr');
    result.ingestBars = await count('svg.ingest rect.bar');
    result.timelines = await count('svg.timeline');
    result.timelineBars = await count('svg.timeline rect.bar');
    result.marks = await count('svg.timeline rect.mark');
    result.ribbons = await count('svg.chord path.ribbon');
    result.places = await count('svg.map circle.place');
    if (result.rows < 2) fail(file, `the suspicious list has ${result.rows} rows`);
    if (result.ingestBars < 1) fail(file, 'the ingest chart has no bars');
    if (result.timelines < 1 || result.timelineBars < 1 || result.marks < 1) fail(file, `timelines not drawn: ${JSON.stringify(result)}`);
    if (result.ribbons < 1) fail(file, 'the chord diagram has no ribbons');
    if (expectMap && result.places < 1) fail(file, 'the map has no places');

    // sorting: by rank (as drawn), then by score descending and back
    const column = async (key) => page.$$eval(`#list tbody tr`, (trs, key) => {
      const th = [...document.querySelectorAll('#list thead th')];
      const i = th.findIndex((h) => h.getAttribute('data-key') === key);
      return trs.map((tr) => tr.children[i].textContent);
    }, key);
    const ranks = (await column('rank')).map(Number);
    if (ranks.some((r, i) => i > 0 && r < ranks[i - 1])) fail(file, 'rows are not in rank order at first');
    await page.click('#list thead th[data-key="score"]');
    let scores = (await column('score')).map(Number);
    if (scores.some((s, i) => i > 0 && s < scores[i - 1])) fail(file, 'sorting by score did not order the rows ascending');
    await page.click('#list thead th[data-key="score"]');
    scores = (await column('score')).map(Number);
    if (scores.some((s, i) => i > 0 && s > scores[i - 1])) fail(file, 'a second click did not reverse the order');
    if (await page.getAttribute('#list thead th[data-key="score"]', 'aria-sort') !== 'descending') fail(file, 'aria-sort not set');
    await page.click('#list thead th[data-key="rank"]');

    // search: a value from the fifth row's source/client cell
    const needle = (await column('src'))[4].split(':')[0];
    await page.fill('#search', needle);
    const after = await page.$$eval('#list tbody tr', (trs) => trs.map((tr) => tr.textContent.toLowerCase()));
    if (!after.length || after.length >= result.rows) fail(file, `searching for ${needle} kept ${after.length} of ${result.rows} rows`);
    if (after.some((t) => !t.includes(needle.toLowerCase()))) fail(file, `a row without ${needle} survived the search`);
    result.search = { needle, rows: after.length };
    await page.fill('#search', '');

    // hostile strings show as text and run nothing
    const text = await page.evaluate(() => document.body.innerText);
    for (const h of hostile) {
      await page.fill('#search', h);
      const shown = await page.evaluate(() => document.querySelector('#list tbody').innerText);
      if (!shown.includes(h) && !text.includes(h)) fail(file, `the hostile string ${JSON.stringify(h)} is not shown as text`);
    }
    await page.fill('#search', '');
    const pwned = await page.evaluate(() => window.__pwned);
    const injected = await count('main img, main iframe, main object, main embed, main script, main [onerror], main [onload]');
    if (dialogs.length || pwned !== undefined || injected) fail(file, `hostile data ran: dialogs ${JSON.stringify(dialogs)}, __pwned ${pwned}, injected elements ${injected}`);
    result.hostile = hostile.length;

    if (errors.length) fail(file, 'console errors: ' + errors.join('; '));
    if (blocked.length) fail(file, 'the page tried to load: ' + blocked.join(', '));
    result.requestsBlocked = blocked.length;
    result.consoleErrors = errors.length;
    if (screenshot) {
      await page.screenshot({ path: screenshot, fullPage: false });
      result.screenshot = screenshot;
      screenshot = '';
    }
    console.log(JSON.stringify(result));
    await context.close();
  }
} catch (e) {
  if (!process.exitCode) {
    console.error('check.mjs: ' + e.message);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
