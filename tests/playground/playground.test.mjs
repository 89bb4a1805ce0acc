// The playground in headless Chromium: draw digits with the mouse and check the predictions, train an epoch in the
// worker while the page stays responsive, download the model and load it back, reject a bad file in plain words,
// and take screenshots at a laptop and a phone viewport (build/playground/playground-*.png); then the Text tab with
// tiny character models trained for the test (text-tab.mjs).
// Run by scripts/test.mjs after the runtime suites, or alone: node tests/playground/playground.test.mjs
import { writeFileSync } from 'node:fs';
import { launchChromium } from '../../scripts/chromium.mjs';
import { ASSETS, preparePlayground } from '../../scripts/playground.mjs';
import { serve } from '../../scripts/serve.mjs';
import { checkTextTab, prepareTinyTextModels } from './text-tab.mjs';

// strokes in pad coordinates ([0, 1] both ways), drawn as a person would
const DIGITS = {
  1: [[[0.53, 0.18], [0.5, 0.5], [0.47, 0.82]]],
  7: [[[0.28, 0.22], [0.72, 0.22], [0.58, 0.5], [0.45, 0.82]]],
  0: [Array.from({ length: 41 }, (_, i) => [0.5 + 0.19 * Math.sin((i / 40) * 2 * Math.PI), 0.5 - 0.3 * Math.cos((i / 40) * 2 * Math.PI)])],
};

/** Runs the checks; returns { passed, failed, failures: [text] }. */
export async function run({ log = () => {} } = {}) {
  const checks = { passed: 0, failed: 0, failures: [] };
  const check = (name, ok, detail = '') => {
    checks[ok ? 'passed' : 'failed']++;
    if (!ok) checks.failures.push(`${name}${detail ? `: ${detail}` : ''}`);
    log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  };
  try {
    preparePlayground({ log });
    prepareTinyTextModels({ log });
  } catch (e) {
    check('the playground assets are prepared', false, e.message);
    return checks;
  }
  const server = await serve('.', 0);
  const browser = await launchChromium('playground');
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    if (process.env.PLAYGROUND_DEBUG) page.on('console', (m) => log(`console: ${m.text()}`));
    await page.goto(`${server.url}/playground/`);
    await page.waitForSelector('body[data-shipped="ready"]', { timeout: 30_000 });
    check('the page is not cross-origin isolated (no COOP/COEP needed)', (await page.evaluate(() => crossOriginIsolated)) === false);

    for (const digit of ['1', '7', '0']) {
      const seen = await drawDigit(page, DIGITS[digit]);
      check(`the shipped model reads a drawn ${digit}`, seen.digit === digit, `predicted ${seen.digit}, ${seen.confidence}`);
    }

    // the CNN in the worker: the page keeps ticking and predicting meanwhile, and Stop ends the run early
    await page.selectOption('#kind', 'cnn');
    await page.fill('#epochs', '3');
    await page.evaluate(() => { window.ticks = 0; window.tickTimer = setInterval(() => window.ticks++, 20); });
    let started = Date.now();
    await page.click('#train');
    await page.waitForFunction(() => document.getElementById('progress').value > 0.02, null, { timeout: 30_000 });
    const during = await drawDigit(page, DIGITS[1]);
    const stillTraining = await page.isEnabled('#stop');
    check('a drawing is read while the worker trains', during.digit === '1' && stillTraining, `predicted ${during.digit}, training ${stillTraining ? 'still running' : 'already over'}`);
    await page.click('#stop');
    await page.waitForFunction(() => document.getElementById('test-accuracy').dataset.accuracy !== '', null, { timeout: 60_000 });
    let seconds = (Date.now() - started) / 1000;
    const ticks = await page.evaluate(() => (clearInterval(window.tickTimer), window.ticks));
    check('the main thread stays responsive while training', ticks > (seconds * 1000 / 20) * 0.5, `${ticks} ticks of 20 ms in ${seconds.toFixed(1)} s`);
    const status = await page.textContent('#train-status');
    const progress = await page.evaluate(() => document.getElementById('progress').value);
    check('Stop ends the run early and the model is tested', /^Stopped/.test(status) && progress < 1, `${status} (progress ${progress.toFixed(2)})`);

    // one MLP epoch: the accuracy shown
    await page.selectOption('#kind', 'mlp');
    await page.fill('#epochs', '1');
    started = Date.now();
    await page.click('#train');
    await page.waitForFunction(() => document.getElementById('test-accuracy').dataset.accuracy !== '', null, { timeout: 90_000 });
    seconds = (Date.now() - started) / 1000;
    const accuracy = Number(await page.getAttribute('#test-accuracy', 'data-accuracy'));
    check('one in-page epoch of the MLP reaches > 90% test accuracy', accuracy > 0.9, `${(accuracy * 100).toFixed(2)}% in ${seconds.toFixed(1)} s`);
    log(`in-page MLP epoch: test accuracy ${(accuracy * 100).toFixed(2)}%, ${seconds.toFixed(1)} s from Train to result`);
    await page.waitForFunction(() => document.querySelector('input[value="yours"]').checked);
    const mine = await drawDigit(page, DIGITS[7]);
    check('the model trained in the page reads a drawn 7', mine.digit === '7', `predicted ${mine.digit}, ${mine.confidence}`);

    // download the checkpoint, load it back, and a bad file is refused in plain words
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const saved = `${ASSETS}/test-download.wnn`;
    await download.saveAs(saved);
    await page.setInputFiles('#load', saved);
    await page.waitForFunction(() => /Loaded: test-download\.wnn/.test(document.getElementById('yours-label').textContent));
    const again = await drawDigit(page, DIGITS[7]);
    check('the downloaded checkpoint loads back and predicts', again.bars === mine.bars, `${again.digit}, ${again.confidence}`);
    await page.setInputFiles('#load', { name: 'notes.wnn', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model at all') });
    await page.waitForSelector('#error:not([hidden])');
    const error = await page.textContent('#error span');
    check('a bad checkpoint file is reported in the page', /notes\.wnn.*not a wasmnn checkpoint/.test(error), error);
    await page.click('#error button');

    // screenshots: a drawn digit and the finished training run, laptop and phone
    await page.click('#clear');
    await drawDigit(page, DIGITS[7]);
    await page.waitForTimeout(300); // the bars' transition
    await page.screenshot({ path: `${ASSETS}/playground-laptop.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.evaluate(() => scrollTo(0, 0));
    await page.screenshot({ path: `${ASSETS}/playground-phone.png` }); // the first screen: pad and prediction
    await page.screenshot({ path: `${ASSETS}/playground-phone-full.png`, fullPage: true });
    const wide = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    check('nothing is wider than the phone\'s screen on the Digits tab', wide[0] <= wide[1], `page ${wide[0]} px wide on a ${wide[1]} px screen`);
    check('no uncaught errors in the page', pageErrors.length === 0, pageErrors.join('; '));

    // a missing shipped model and missing data are said in the page
    const bare = await browser.context.newPage();
    await bare.route(/\/build\/playground\/(model\.wnn|mnist\.bin\.gz)$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
    await bare.goto(`${server.url}/playground/`);
    await bare.waitForSelector('#error:not([hidden])');
    const missingModel = await bare.textContent('#error span');
    await bare.click('#error button');
    await bare.click('#train');
    await bare.waitForSelector('#error:not([hidden])');
    const missingData = await bare.textContent('#error span');
    check('missing files are reported in the page', /shipped model.*missing.*prepare-playground/.test(missingModel) &&
      /training data.*missing/.test(missingData), `${missingModel} / ${missingData}`);
    await bare.close();

    await checkTextTab(browser, server.url, check, { log, shots: ASSETS });
  } catch (e) {
    check('the playground test ran to the end', false, e.message.split('\n')[0]);
  } finally {
    await browser.close();
    await server.close();
  }
  return checks;
}

/** Clears the pad, draws `strokes` with the mouse and waits for the prediction; returns { digit, confidence }. */
async function drawDigit(page, strokes) {
  await page.click('#clear');
  await page.evaluate(() => document.getElementById('pad').scrollIntoView({ block: 'center' }));
  const box = await page.locator('#pad').boundingBox();
  const before = await page.getAttribute('#digit', 'data-count');
  for (const stroke of strokes) {
    const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (let i = 1; i < stroke.length; i++) await page.mouse.move(...at(stroke[i]), { steps: 6 });
    await page.mouse.up();
  }
  await page.waitForFunction((n) => document.getElementById('digit').dataset.count !== n, before, { timeout: 10_000 })
    .catch(async (e) => { throw new Error(`no prediction after drawing: ${await page.textContent('#confidence')} / ${await page.textContent('#yours-label')}: ${e.message}`); });
  const confidence = (await page.textContent('#confidence')).split(' · ')[0];
  return { digit: await page.textContent('#digit'), confidence, bars: await page.textContent('#bars') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run({ log: console.log });
  console.log(`playground (chromium): ${result.passed} passed, ${result.failed} failed`);
  process.exitCode = result.failed ? 1 : 0;
}
