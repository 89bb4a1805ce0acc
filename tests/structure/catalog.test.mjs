// The layer catalog (ts/layers/catalog.ts, as the built library registers it) against what must go with each layer:
// every layer class nn.layers exports is in the catalog; every catalog layer has its factory in nn.layers, is in
// README's layer list, and is imported from TF.js models when TF.js has a layer of that class name. Each failure
// names the layer and what it lacks. Node only (reads README.md, loads @tensorflow/tfjs); run after `npm run build`.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as nn from '../../dist/index.js';

const catalog = nn.registeredLayers();

test('the catalog holds the library\'s layers', () => {
  assert.ok(catalog.includes('Dense') && catalog.includes('Residual'), `the catalog: ${catalog.join(', ')}`);
});

test('every layer class nn.layers exports is in the catalog', () => {
  const classes = Object.entries(nn.layers).filter(([, v]) => typeof v === 'function' && v.prototype instanceof nn.layers.Layer);
  assert.ok(classes.length >= catalog.length, 'nn.layers exports the layer classes');
  assert.deepEqual(classes.filter(([name]) => !catalog.includes(name)).map(([name]) => `${name}: exported from nn.layers but not in ts/layers/catalog.ts (a saved model with it would not load)`), []);
});

/** The factory of a catalog class: nn.layers' function of the same name, lower camel case (Conv2D: conv2d). */
function factoryOf(className) {
  return Object.keys(nn.layers).find((k) => k !== className && k.toLowerCase() === className.toLowerCase() && /^[a-z]/.test(k));
}

test('every catalog layer has its factory in nn.layers and in README\'s layer list', () => {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('Layers (`nn.layers`');
  assert.ok(start >= 0, "README.md has a paragraph 'Layers (`nn.layers`...' listing them");
  const list = readme.slice(start, readme.indexOf('\n\n', start));
  const problems = [];
  for (const className of catalog) {
    const factory = factoryOf(className);
    if (!factory) problems.push(`${className}: no factory in nn.layers (export one from ts/layers/index.ts)`);
    else if (!list.includes(`\`${factory}\``)) problems.push(`${className}: README's layer list does not name \`${factory}\``);
  }
  assert.deepEqual(problems, []);
});

test('every catalog layer that TF.js has is imported from TF.js models (ts/import/tfjs.ts)', async () => {
  const tf = await import('@tensorflow/tfjs');
  const tfjs = tf.serialization.SerializationMap.getMap().classNameMap;
  assert.ok(tfjs.Dense && tfjs.Conv2D, 'read the layer classes TF.js registers');
  const missing = catalog.filter((c) => c in tfjs && !nn.TFJS_LAYERS.includes(c));
  assert.deepEqual(missing.map((c) => `${c}: TF.js has this layer, but ts/import/tfjs.ts has no converter for it`), []);
});
