// The API docs readers browse: the Redoc pages (self-contained, no CDN) served at /docs on any
// host of the public port, and the admin API's at /docs on the admin port.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const require = createRequire(import.meta.url);
const docsBuilt = (() => {
  try {
    require.resolve('@hearth/contract/docs/openapi.html');
    return true;
  } catch {
    return false;
  }
})();

interface Op {
  operationId: string;
  summary: string;
  tag: string;
}

function operationsOf(doc: 'openapi' | 'admin'): Op[] {
  const spec = JSON.parse(readFileSync(require.resolve(`@hearth/contract/${doc}.json`), 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string; summary?: string; tags?: string[] }>>;
  };
  return Object.values(spec.paths).flatMap((item) =>
    ['get', 'put', 'post', 'delete', 'patch']
      .map((m) => item[m])
      .filter((op): op is { operationId: string; summary: string; tags: string[] } => Boolean(op?.operationId))
      .map((op) => ({ operationId: op.operationId, summary: op.summary, tag: op.tags[0]! })),
  );
}

describe.skipIf(!chromiumAvailable || !docsBuilt)('API docs in a browser', () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it.each([
    ['public', 'openapi' as const, () => `http://docs.test:${server.port}/docs`],
    ['admin', 'admin' as const, () => `http://127.0.0.1:${server.adminPort}/docs`],
  ])('the %s docs list every operation', async (_name, doc, url) => {
    const page = await browser.browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    const response = await page.goto(url(), { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const ops = operationsOf(doc);
    // Redoc shows one tag at a time (hash routing): open each tag from the sidebar and read what
    // it lists.
    const seen = new Set<string>();
    for (const tag of [...new Set(ops.map((o) => o.tag))]) {
      await page.getByText(tag, { exact: true }).first().click();
      const first = ops.find((o) => o.tag === tag)!;
      await page.getByText(first.summary, { exact: true }).first().waitFor({ timeout: 20_000 });
      const text = await page.locator('body').innerText();
      for (const o of ops) if (o.tag === tag && text.includes(o.summary)) seen.add(o.operationId);
    }
    expect([...seen].sort()).toEqual(ops.map((o) => o.operationId).sort());
    // Nothing is fetched from outside (the bundle is inline); the logo Redoc links to is the only
    // external resource and it is not needed to read the page.
    expect(failed.filter((u) => !u.includes('logo'))).toEqual([]);
    await page.close();
  });
});
