// The test runner without a browser: one line saying what to install and how to point at it, a failed run, and no
// Playwright stack trace. CHROME_PATH names a file that does not exist, so no browser starts. Run: node --test tests/scripts/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('CHROME_PATH at a missing file: the browser stages fail with one line each', () => {
  const env = { ...process.env, CHROME_PATH: '/nonexistent/chrome' };
  const r = spawnSync(process.execPath, ['scripts/test.mjs', 'chromium', 'playground'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  const hint = 'CHROME_PATH=/nonexistent/chrome is not an executable file: install Chromium or Chrome';
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.filter((l) => l.includes(hint)).map((l) => l.split(':')[0]), ['chromium', 'playground (chromium)']);
  assert.ok(lines.every((l) => !/^\s+at /.test(l)), `no stack trace:\n${r.stdout}`);
  assert.equal(lines.at(-1), '0 passed, 2 failed');
});
