// The playground's Text tab in headless Chromium, with two tiny character models trained here by the CLI (an LSTM
// and a GPT, a few steps each: the test checks the plumbing, not the prose), prepared by `wasmnn prepare-playground
// --text-only` into build/playground-test/ and served in place of build/playground/text/ (a prepared real model
// there is left alone). Types a prompt, checks that the text streams in, that a seed gives the text of `wasmnn
// generate` with it (and the GPT's Slide by half that of `--slide half`), that Stop ends a long run at once, that
// the heatmap has a cell per pair of the prompt's characters and fits a phone with its colour scale, and leaves
// screenshots at a laptop and a phone size in build/playground/ (text-*.png).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const DIR = 'build/playground-test';
const STEPS = 32; // the tiny models' window; the prompt fits in it
const PROMPT = 'Call me Ishmael. Some years ago';
const cli = (...args) => spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });

/** Trains the tiny models and prepares them; throws with the CLI's output when a step fails. */
export function prepareTinyTextModels({ log = () => {} } = {}) {
  rmSync(DIR, { recursive: true, force: true });
  const tiny = ['--epochs', '1', '--max-steps', '25', '--seq-length', String(STEPS), '--val-limit', '8', '--sample-length', '10', '--quiet'];
  const models = { lstm: ['--units', '32', '--embed-dim', '16'], gpt: ['--units', '32'] };
  for (const [kind, size] of Object.entries(models)) {
    const started = Date.now();
    const r = cli('train', '--dataset', 'moby-dick', '--model', kind, ...tiny, ...size, '--out', join(DIR, `${kind}.wnn`), '--curves', join(DIR, `${kind}.svg`));
    if (r.status !== 0) throw new Error(`wasmnn train --model ${kind} failed:\n${r.stdout}${r.stderr}`);
    log(`trained the tiny ${kind} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const r = cli('prepare-playground', '--text-only', '--lstm', join(DIR, 'lstm.wnn'), '--gpt', join(DIR, 'gpt.wnn'), '--out', DIR);
  if (r.status !== 0) throw new Error(`wasmnn prepare-playground --text-only failed:\n${r.stdout}${r.stderr}`);
}

/** Serves the tiny models where the page looks for the text tab's models. */
export async function useTinyTextModels(page) {
  await page.route(/\/build\/playground\/text\/[\w.-]+$/, (route) => {
    const file = join(DIR, 'text', new URL(route.request().url()).pathname.split('/').pop());
    if (!existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, body: readFileSync(file), headers: { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  });
}

/** What `wasmnn generate` writes for the same model and settings: the prompt and its continuation. */
function cliText(kind, { seed, length, temperature, topK, slide }) {
  const r = cli('generate', join(DIR, `${kind}.wnn`), '--prompt', PROMPT, '--length', String(length), '--seed', String(seed),
    '--temperature', String(temperature), ...(topK ? ['--top-k', String(topK)] : []), ...(slide ? ['--slide', slide] : []));
  if (r.status !== 0) throw new Error(`wasmnn generate failed: ${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}

/** Sets the controls, clicks Generate and waits for the run to end; returns its text and the lengths seen on the way.
 *  `slide` (the GPT's window past its end) is left as it is unless given. */
async function generate(page, { model, seed, length, temperature = 0.8, topK = 0, slide }) {
  await page.selectOption('#text-model', model);
  await page.waitForSelector('body[data-text="ready"]');
  if (slide) await page.selectOption('#slide', slide);
  for (const [id, v] of [['seed', seed], ['length', length], ['temperature', temperature], ['top-k', topK]]) await page.fill(`#${id}`, String(v));
  await page.evaluate(() => {
    // every rendering of the continuation: how many times, and how long it was
    window.seenLengths = [];
    window.streamWatch?.disconnect();
    window.streamWatch = new MutationObserver(() => window.seenLengths.push(document.querySelector('#continuation .new').textContent.length));
    window.streamWatch.observe(document.querySelector('#continuation .new'), { characterData: true, subtree: true, childList: true });
  });
  await page.click('#generate');
  await page.waitForSelector('body[data-generation="done"], body[data-generation="failed"]', { timeout: 60_000 });
  const text = await page.textContent('#continuation .new');
  const lengths = await page.evaluate(() => [...new Set(window.seenLengths)]);
  const sent = await page.getAttribute('#continuation .new', 'data-slide'); // the slide the worker gave nn.generate
  return { text, lengths, sent, status: await page.textContent('#generate-status') };
}

/** Waits for the heatmap of the current layer and head; returns its character count, cells and SVG. */
async function heatmap(page, n) {
  await page.waitForFunction((n) => document.getElementById('heatmap').dataset.n === String(n) && document.querySelector('#heatmap svg'), n, { timeout: 20_000 });
  return page.evaluate(() => ({
    cells: document.querySelectorAll('#heatmap rect.cell').length,
    rows: document.querySelectorAll('#heatmap .row-label').length,
    svg: document.getElementById('heatmap').innerHTML,
  }));
}

/** The Text tab's checks on a page of the served playground; `check(name, ok, detail)` records each. */
export async function checkTextTab(browser, url, check, { log = () => {}, shots }) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1366, height: 768 });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await useTinyTextModels(page);
  await page.goto(`${url}/playground/`);
  await page.click('#tab-text');
  await page.waitForSelector('body[data-text="ready"]', { timeout: 30_000 });
  check('the Text tab opens and loads the prepared model', await page.isVisible('#prompt') && !(await page.isVisible('#pad')));

  // a person types the prompt
  await page.fill('#prompt', '');
  await page.locator('#prompt').pressSequentially(PROMPT);
  // lengths that take the tiny models a tenth of a second or more: the worker posts what it drew every 15 ms
  const texts = {};
  for (const [model, length] of [['gpt', 120], ['lstm', 5000]]) {
    const settings = { model, seed: 7, length };
    const a = (texts[model] = await generate(page, settings));
    const updates = Number(await page.getAttribute('#continuation .new', 'data-updates'));
    const count = Number(await page.getAttribute('#continuation .new', 'data-count'));
    const partial = a.lengths.filter((n) => n > 0 && n < a.text.length);
    check(`${model}: the text streams in while it is generated`, count === length && partial.length >= 2 && updates > 2,
      `${partial.length} renderings before the end, of lengths ${partial.slice(0, 6).join(', ')}…; ${updates} messages; ${a.status}`);
    const b = await generate(page, settings);
    check(`${model}: the same seed gives the same text`, b.text === a.text, `${JSON.stringify(a.text.slice(0, 40))} / ${JSON.stringify(b.text.slice(0, 40))}`);
    const c = await generate(page, { ...settings, seed: 8 });
    check(`${model}: another seed gives another text`, c.text !== a.text);
    const expected = cliText(model, { seed: 7, length, temperature: 0.8 });
    check(`${model}: the page writes what \`wasmnn generate\` writes with that seed`, PROMPT + a.text === expected,
      `${JSON.stringify((PROMPT + a.text).slice(0, 60))} / ${JSON.stringify(expected.slice(0, 60))}`);
    log(`${model}: ${a.status}`);
  }
  check('the LSTM is given no window choice', texts.lstm.sent === '' && await page.isDisabled('#slide') &&
    (await page.textContent('#slide-note')) === '', `sent ${JSON.stringify(texts.lstm.sent)}`);

  // the GPT past its window (a 31-character prompt in a 32-character window): 'token' (the default, as the CLI's)
  // re-runs the window for each character, 'half' restarts from its last half; the choice reaches nn.generate.
  // The first two characters are drawn while the window holds them, the same both ways
  await page.selectOption('#text-model', 'gpt');
  const tokenNote = await page.textContent('#slide-note');
  const half = await generate(page, { model: 'gpt', seed: 7, length: 120, slide: 'half' });
  const halfNote = await page.textContent('#slide-note');
  check('the GPT offers the window choice, said in a line under the form', await page.isEnabled('#slide') && texts.gpt.sent === 'token' &&
    /re-runs the last 32 characters/.test(tokenNote) && /restarts from the last 16 characters/.test(halfNote), `${tokenNote} / ${halfNote}`);
  check('slide half reaches the worker and is said in the status', half.sent === 'half' && /its window slides by half/.test(half.status), `${half.sent}; ${half.status}`);
  const halfCli = cliText('gpt', { seed: 7, length: 120, temperature: 0.8, slide: 'half' });
  check('slide half: the page writes what `wasmnn generate --slide half` writes with that seed', PROMPT + half.text === halfCli &&
    half.text.length === 120, `${JSON.stringify((PROMPT + half.text).slice(0, 60))} / ${JSON.stringify(halfCli.slice(0, 60))}`);
  const halfAgain = await generate(page, { model: 'gpt', seed: 7, length: 120 });
  check('slide half: the same seed gives the same text, another than slide token past the window', halfAgain.text === half.text &&
    half.text !== texts.gpt.text && half.text.slice(0, 2) === texts.gpt.text.slice(0, 2), `${JSON.stringify(half.text.slice(0, 40))} / ${JSON.stringify(texts.gpt.text.slice(0, 40))}`);
  log(`gpt, slide half: ${half.status}`);
  await page.selectOption('#slide', 'token');

  // Stop: a long run ends at once, the page stayed responsive meanwhile, and the next run works
  await page.selectOption('#text-model', 'gpt');
  for (const [id, v] of [['seed', 7], ['length', 5000]]) await page.fill(`#${id}`, String(v));
  await page.evaluate(() => { window.ticks = 0; window.tickTimer = setInterval(() => window.ticks++, 20); });
  const started = Date.now();
  await page.click('#generate');
  await page.waitForFunction(() => document.querySelector('#continuation .new').textContent.length >= 40, null, { timeout: 30_000 });
  const clicked = Date.now();
  await page.click('#generate-stop');
  await page.waitForSelector('body[data-generation="stopped"]', { timeout: 2_000 }).catch(() => {});
  const stopMs = Date.now() - clicked;
  const seconds = (Date.now() - started) / 1000;
  const ticks = await page.evaluate(() => (clearInterval(window.tickTimer), window.ticks));
  const atStop = (await page.textContent('#continuation .new')).length;
  await page.waitForTimeout(600);
  const later = (await page.textContent('#continuation .new')).length;
  const how = await page.getAttribute('body', 'data-generation');
  check('Stop ends a long run at once and nothing more arrives', how === 'stopped' && atStop < 5000 && later === atStop && stopMs < 1000,
    `${how} after ${atStop} of 5000 characters, ${stopMs} ms after the click; ${later} characters 600 ms later`);
  check('the page stays responsive while the worker generates', ticks > (seconds * 1000 / 20) * 0.5, `${ticks} ticks of 20 ms in ${seconds.toFixed(1)} s`);
  const again = await generate(page, { model: 'gpt', seed: 7, length: 120 });
  const first = cliText('gpt', { seed: 7, length: 120, temperature: 0.8 });
  check('after Stop the next run starts a new worker and gives the seed\'s text', PROMPT + again.text === first, again.status);

  // the heatmap: one cell per (query, key) pair of the prompt's characters, for every layer and head picked
  const n = Array.from(PROMPT).length;
  const shown = await heatmap(page, n);
  check('the heatmap has prompt length squared cells', shown.cells === n * n && shown.rows === n, `${shown.cells} cells, ${shown.rows} rows for ${n} characters`);
  const layers = await page.$$eval('#attention-layer option', (o) => o.map((x) => x.value));
  const heads = await page.$$eval('#attention-head option', (o) => o.map((x) => x.value));
  await page.selectOption('#attention-layer', layers[0]);
  await page.selectOption('#attention-head', heads[heads.length - 1]);
  await page.waitForFunction((svg) => document.getElementById('heatmap').innerHTML !== svg, shown.svg, { timeout: 10_000 }).catch(() => {});
  const other = await heatmap(page, n);
  check('another layer and head draw another map of the same size', layers.length === 4 && heads.length === 4 && other.svg !== shown.svg && other.cells === n * n &&
    /transformer_decoder_\d+, head 3 of 4/.test(other.svg), `${layers.length} layers, ${heads.length} heads, ${other.cells} cells`);
  await page.fill('#prompt', 'Whale!');
  const short = await heatmap(page, 6);
  check('the heatmap follows the text as it is typed', short.cells === 36, `${short.cells} cells for 6 characters`);
  await page.fill('#prompt', PROMPT);
  await heatmap(page, n);
  await page.selectOption('#text-model', 'lstm');
  const note = await page.textContent('#attention-note');
  check('the LSTM has no heatmap, and the page says why', (await page.$$('#heatmap rect.cell')).length === 0 && /LSTM has no attention/.test(note), note);

  // screenshots: a finished GPT run and its heatmap, laptop and phone
  await page.selectOption('#text-model', 'gpt');
  await generate(page, { model: 'gpt', seed: 3, length: 200 });
  await heatmap(page, n);
  await page.screenshot({ path: `${shots}/text-laptop.png`, fullPage: true });
  const laptopCell = await page.getAttribute('#heatmap', 'data-cell');
  await page.setViewportSize({ width: 390, height: 844 });
  // the page draws the map again for the narrower card, with smaller cells
  await page.waitForFunction((cell) => document.getElementById('heatmap').dataset.cell !== cell, laptopCell, { timeout: 10_000 }).catch(() => {});
  await heatmap(page, n);
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/text-phone.png` });
  await page.screenshot({ path: `${shots}/text-phone-full.png`, fullPage: true });
  const phone = await page.evaluate(() => {
    const box = document.getElementById('heatmap'), scale = box.querySelector('.scale').getBoundingClientRect();
    return { scrollWidth: document.documentElement.scrollWidth, width: innerWidth, cell: box.dataset.cell,
      boxScroll: box.scrollWidth - box.clientWidth, scaleRight: scale.right, boxRight: box.getBoundingClientRect().right };
  });
  check('nothing is wider than the phone\'s screen on the Text tab with the heatmap', phone.scrollWidth <= phone.width &&
    phone.cell !== laptopCell, `page ${phone.scrollWidth} px wide on a ${phone.width} px screen; cells of ${phone.cell} px (${laptopCell} on the laptop)`);
  check('the heatmap and its colour scale fit the phone\'s card, nothing scrolls sideways', phone.boxScroll <= 0 && phone.scaleRight <= phone.boxRight,
    `the map box scrolls ${phone.boxScroll} px; the scale ends at ${phone.scaleRight.toFixed(0)} px, the card's inside at ${phone.boxRight.toFixed(0)} px`);
  check('no uncaught errors in the Text tab', pageErrors.length === 0, pageErrors.join('; '));
  await page.close();

  // no prepared model: the tab says how to get one, on a phone too (the commands wrap)
  const bare = await browser.context.newPage();
  await bare.setViewportSize({ width: 390, height: 844 });
  await bare.route(/\/build\/playground\/text\/models\.json$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await bare.goto(`${url}/playground/#text`);
  await bare.waitForSelector('body[data-text="missing"]', { timeout: 10_000 });
  const notice = await bare.textContent('#text-missing');
  check('with no character model the tab says how to prepare one', /No character model.*train --dataset moby-dick --model gpt.*prepare-playground --text-only/s.test(notice) &&
    await bare.isDisabled('#generate') && await bare.isDisabled('#slide'), notice.replace(/\s+/g, ' ').slice(0, 200));
  await bare.screenshot({ path: `${shots}/text-missing-phone.png`, fullPage: true });
  const wide = await bare.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  check('the notice is no wider than the phone\'s screen', wide[0] <= wide[1], `page ${wide[0]} px wide on a ${wide[1]} px screen`);
  await bare.close();
}
