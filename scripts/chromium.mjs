// Headless Debian chromium driven by playwright-core, with the flags that work in this project's containers and CI
// (no sandbox, no GPU, no background network), on a fresh profile under build/. close() also removes the profile.
import { rmSync } from 'node:fs';

export async function launchChromium(name = 'chromium') {
  const { chromium } = await import('playwright-core');
  const profile = `build/${name}-profile-${process.pid}`;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
