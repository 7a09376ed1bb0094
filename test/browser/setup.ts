/** The browser project's global set-up: Chromium is there before any file runs (installed with apt-get when missing and root: scripts/chromium.ts). */
import { ensureChromium } from '../../scripts/chromium.js';

export default function setup(): void {
  ensureChromium();
}
