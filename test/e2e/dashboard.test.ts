import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, killStrayBots, startBot } from '../support/bot-process.js';
import { bearer, OPERATOR_TOKEN, PASSPHRASE, READONLY_TOKEN, until } from '../support/http.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

/** Debian's Chromium (.ci/run installs it); playwright-core downloads no browser of its own. */
function chromiumPath(): string {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error('Chromium is not installed: apt-get install chromium (.ci/run does)');
  }
}

/** The dashboard in a real browser, against the app started as `npm start` starts it, with its demo grids. */
describe('dashboard (Chromium)', () => {
  let db: TestDatabase;
  let bot: BotProcess;
  let base: string;
  let browser: Browser;
  let sql: pg.Client;

  const gridStatus = async (name: string) =>
    ((await sql.query(`SELECT status FROM grid WHERE name = $1`, [name])).rows[0] as { status: string })
      .status;

  async function signIn(token: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    await page.goto(base);
    await page.locator('#token').fill(token);
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('[data-grid-id]').first().waitFor();
    return page;
  }

  const card = (page: Page, name: string) =>
    page.locator('[data-grid-id]').filter({ has: page.locator('h3', { hasText: name }) });

  beforeAll(async () => {
    db = await createTestDatabase();
    bot = startBot({
      DATABASE_URL: db.url,
      QUEUE_PREFIX: testPrefix(),
      MARKET_TICK_MS: '100',
      API_TOKEN: OPERATOR_TOKEN,
      API_READONLY_TOKEN: READONLY_TOKEN,
      TV_PASSPHRASE: PASSPHRASE,
    });
    await bot.waitFor(/"msg":"HTTP on (http:\/\/[^ ]+) /);
    base = /"msg":"HTTP on (http:\/\/[^ ]+) /.exec(bot.output())![1]!;
    await bot.waitFor(/demo grid on SOLUSDT/, 30_000);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await sql?.end();
    bot?.child.kill('SIGTERM');
    await bot?.exited;
    await killStrayBots();
    await db?.drop();
  });

  it('asks for a token in a password field; the page holds no secret', async () => {
    const html = await (await fetch(base)).text();
    for (const secret of [OPERATOR_TOKEN, READONLY_TOKEN, PASSPHRASE]) expect(html).not.toContain(secret);
    const page = await (await browser.newContext()).newPage();
    await page.goto(base);
    await page.locator('#sign-in').waitFor();
    expect(await page.locator('#token').getAttribute('type')).toBe('password');
    expect(await page.locator('#app').isHidden()).toBe(true);
    await page.locator('#token').fill('not-a-valid-token-at-all');
    await page.locator('#sign-in-form button[type=submit]').click();
    await page.locator('#sign-in-problem', { hasText: 'That token is not valid.' }).waitFor();
    await page.context().close();
  });

  it('a read-only token sees the demo grids, risk and P/L, and no buttons', async () => {
    const page = await signIn(READONLY_TOKEN);
    await expect(page.locator('[data-grid-id]').count()).resolves.toBe(3);
    for (const name of ['demo-BTCUSDT', 'demo-ETHUSDT', 'demo-SOLUSDT']) {
      expect(await card(page, name).locator('.status').textContent()).toBe('running');
    }
    expect(await page.locator('#role').textContent()).toBe('read-only');
    expect(await page.locator('button[data-action]').count()).toBe(0);
    expect(await page.locator('#kill').isHidden()).toBe(true);
    expect(await page.locator('#queues-link').isHidden()).toBe(true);
    expect(await page.locator('#risk-killed').textContent()).toBe('off');
    // Drawn from a PNG the page fetched with its token (an <img> cannot send one).
    // A function, not a string: the page's CSP refuses eval, as it should.
    await page.waitForFunction((id) => {
      type Doc = { getElementById(id: string): { naturalWidth?: number } | null };
      return (
        ((globalThis as unknown as { document: Doc }).document.getElementById(id)?.naturalWidth ?? 0) > 0
      );
    }, 'pnl-chart');
    // The token is kept for the tab: a reload goes straight to the dashboard.
    await page.reload();
    await page.locator('[data-grid-id]').first().waitFor();
    expect(await page.locator('#sign-in').isHidden()).toBe(true);
    await page.screenshot({ path: join(tmpdir(), 'gridops-dashboard-readonly.png'), fullPage: true });
    await page.context().close();
  });

  it("an operator's pause happens only once confirmed, and the card shows the new state", async () => {
    const page = await signIn(OPERATOR_TOKEN);
    const btc = card(page, 'demo-BTCUSDT');
    expect(await page.locator('#kill').isVisible()).toBe(true);
    expect(await btc.locator('button[data-action]').allTextContents()).toEqual(['Pause', 'Stop']);

    const dialogs: string[] = [];
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await btc.locator('button[data-action=pause]').click();
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await btc.locator('button[data-action=pause]').click();
    await btc.locator('.status', { hasText: 'paused' }).waitFor();
    expect(dialogs).toEqual(['Pause grid demo-BTCUSDT (BTCUSDT)?', 'Pause grid demo-BTCUSDT (BTCUSDT)?']);
    expect(await gridStatus('demo-BTCUSDT')).toBe('paused');
    expect(await btc.locator('button[data-action]').allTextContents()).toEqual(['Resume', 'Stop']);
    // The dismissed click sent nothing: one pause, by the operator's token, over REST.
    const audits = await sql.query(
      `SELECT actor, via, outcome FROM audit_log WHERE action = 'pause' AND via = 'rest' ORDER BY id`,
    );
    expect(audits.rows).toEqual([{ actor: 'api-operator', via: 'rest', outcome: 'ok' }]);
    await page.screenshot({ path: join(tmpdir(), 'gridops-dashboard-operator.png'), fullPage: true });
    await page.context().close();
  });

  it('a TradingView alert to the running app resumes the grid, and the dashboard lists it', async () => {
    const res = await fetch(`${base}/webhook/tradingview`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: JSON.stringify({
        symbol: 'BTCUSDT',
        action: 'buy',
        price: 97250.0,
        zone: 'support',
        passphrase: PASSPHRASE,
      }),
    });
    expect(res.status).toBe(202);
    await until(
      async () => ((await gridStatus('demo-BTCUSDT')) === 'running' ? true : undefined),
      'the resume',
    );
    const page = await signIn(READONLY_TOKEN);
    await page.locator('#alerts tr', { hasText: 'resumed' }).waitFor();
    expect(await page.locator('#alerts tr').first().textContent()).toMatch(/BTCUSDT\s*buy\s*g\d+ resumed/);
    const alerts = (await (
      await fetch(`${base}/api/alerts`, { headers: bearer(READONLY_TOKEN) })
    ).json()) as {
      alerts: { outcome: string }[];
    };
    expect(alerts.alerts[0]?.outcome).toMatch(/^g\d+ resumed$/);
    await page.context().close();
  });

  // Protects: the dashboard's kill button, which posts no body: the API answered it 400 (a null body failed the
  // schema), so the emergency stop did nothing. Last here: every grid stops.
  it("an operator's kill switch needs only the confirmation, no reason", async () => {
    const page = await signIn(OPERATOR_TOKEN);
    const dialogs: string[] = [];
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.locator('#kill').click();
    await page.locator('#kill-badge', { hasText: 'KILLED' }).waitFor();
    expect(dialogs).toHaveLength(1);
    expect(await page.locator('#risk-killed').textContent()).toMatch(/^ON since .*\(manual kill via API\)$/);
    const incidents = await sql.query(`SELECT trigger, actor FROM risk_incident ORDER BY id`);
    expect(incidents.rows).toEqual([{ trigger: 'manual kill via API', actor: 'rest:api-operator' }]);
    await page.context().close();
  });
});
