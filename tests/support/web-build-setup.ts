import { ensureWebApp } from '../../apps/web-build.ts';

/** Vitest global setup: the browser tests use the web app as `npm start` serves it, built once before any test. */
export default async function setup(): Promise<void> {
  await ensureWebApp();
}
