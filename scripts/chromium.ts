/**
 * Chromium for the console's browser tests (test/browser), its screenshots and its bench:
 * `ensureChromium()` finds or installs it, `launchChromium()` starts it headless through
 * playwright-core with the flags this closed network needs (without them Chromium waits on
 * refused connections: updates, sync, QUIC).
 *
 * Which binary: IMPRINT_CHROMIUM (a Chromium or chromium-headless-shell binary) when set; else
 * Debian's /usr/bin/chromium; else, as root, `apt-get install chromium` (after `apt-get update`
 * when the package is not known yet); else an error saying what to install.
 *
 * Run as a script it prints the binary's path: `npx tsx scripts/chromium.ts`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The flags every launch gets: headless, no sandbox (root in a container), nothing that calls out. */
export const CHROMIUM_ARGS: readonly string[] = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The Chromium binary to use, installed with apt-get first when it is missing and we are root. */
export function ensureChromium(): string {
  const given = process.env['IMPRINT_CHROMIUM'];
  if (given) {
    if (!executable(given)) throw new Error(`IMPRINT_CHROMIUM=${given} is not an executable file: point it at a Chromium (or chromium-headless-shell) binary, or unset it to use ${DEBIAN_CHROMIUM}`);
    return given;
  }
  if (executable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new Error(`the console's browser tests need Chromium: install Debian's chromium package (sudo apt-get install --no-install-recommends chromium), or set IMPRINT_CHROMIUM to a Chromium binary`);
  }
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    install();
  } catch {
    // A fresh machine's package lists may not know it yet.
    execFileSync('apt-get', ['update'], { stdio: 'inherit' });
    install();
  }
  if (!executable(DEBIAN_CHROMIUM)) throw new Error(`apt-get installed chromium, but ${DEBIAN_CHROMIUM} is not there`);
  return DEBIAN_CHROMIUM;
}

/**
 * Chromium, headless, from `ensureChromium()`. playwright-core gives every launch a fresh
 * profile (user data dir) of its own and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: ensureChromium(), args: [...CHROMIUM_ARGS], timeout: 60_000 });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(ensureChromium());
