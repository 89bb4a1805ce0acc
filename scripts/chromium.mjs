// Headless Chromium (or Chrome) driven by playwright-core, with the flags that work in this project's containers and
// CI (no sandbox, no GPU, no background network), on a fresh profile under build/. close() also removes the profile.
// The browser is the one the machine has: findChromium() says where it looked when there is none.
import { accessSync, constants, existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A browser could not be found; its message is one line saying what to install and how to point at it. */
export class ChromiumNotFound extends Error {
  name = 'ChromiumNotFound';
}

// environment variables that name the browser, first found wins (the last two are Playwright's and Puppeteer's)
const ENV_VARS = ['CHROME_PATH', 'CHROMIUM_PATH', 'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH', 'PUPPETEER_EXECUTABLE_PATH'];
// commands looked up on PATH, then the places packages and installers put the browser
const COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const PLACES = [
  '/usr/bin/chromium', // Debian
  '/usr/bin/chromium-browser', // Ubuntu, Fedora
  '/snap/bin/chromium',
  '/usr/lib/chromium/chromium',
  '/usr/lib64/chromium-browser/chromium-browser',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  join(homedir(), 'Applications/Google Chrome.app/Contents/MacOS/Google Chrome'),
  ...['PROGRAMFILES', 'PROGRAMFILES(X86)', 'LOCALAPPDATA']
    .filter((v) => process.env[v])
    .map((v) => join(process.env[v], 'Google/Chrome/Application/chrome.exe')),
];

const INSTALL_HINT = 'install Chromium or Chrome (Debian/Ubuntu: apt-get install chromium; ' +
  'Fedora: dnf install chromium; macOS: Google Chrome in /Applications) or point CHROME_PATH at its executable';

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The browser's executable: from CHROME_PATH (or the other variables above), else PATH, else the usual places. */
export async function findChromium() {
  for (const name of ENV_VARS) {
    const path = process.env[name];
    if (!path) continue;
    if (executable(path)) return path;
    // named but missing: say so rather than quietly test another browser
    throw new ChromiumNotFound(`${name}=${path} is not an executable file: ${INSTALL_HINT}`);
  }
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
    .flatMap((dir) => COMMANDS.map((c) => join(dir, process.platform === 'win32' ? `${c}.exe` : c)));
  // the build `npx playwright-core install chromium` downloads, if someone did
  const { chromium } = await import('playwright-core');
  let playwrights = [];
  try {
    playwrights = [chromium.executablePath()];
  } catch {} // no build for this platform
  const found = [...onPath, ...PLACES, ...playwrights].find((p) => existsSync(p) && executable(p));
  if (found) return found;
  throw new ChromiumNotFound(`no Chromium or Chrome found (looked at $CHROME_PATH, PATH and the usual places): ${INSTALL_HINT}`);
}

export async function launchChromium(name = 'chromium') {
  const executablePath = await findChromium();
  const { chromium } = await import('playwright-core');
  const profile = `build/${name}-profile-${process.pid}`;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
