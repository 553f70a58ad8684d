import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/app/ports/core.js';
import { QueueNotifier } from '../../src/jobs/bus.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const SECRET = 'a-shared-secret-of-some-length';

/**
 * The outgoing webhook channel, through the real queues: signed JSON, a 5xx retried until it is taken (once), a
 * permanent refusal kept with its reason instead of being lost.
 */
describe('notification delivery (outgoing webhook)', () => {
  let db: TestDatabase;
  let app: TestApp;
  let server: Server;
  const received: { headers: Record<string, string>; body: string }[] = [];
  // What the receiver answers next, in order; then 200.
  const answers: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      bot: true,
      env: { NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, NOTIFY_WEBHOOK_SECRET: SECRET },
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await new Promise((r) => server.close(r));
  });

  const notify = (n: Partial<Notification> & { key: string }) =>
    new QueueNotifier(app.rt.queues.notifications).notify({
      category: 'risk',
      severity: 'warning',
      title: 'Risk: drawdown 16 % from the peak 10000',
      lines: ['equity 8400'],
      ...n,
    });

  it('posts signed JSON; a 5xx is retried and the message arrives once', async () => {
    answers.push(502);
    await notify({ key: 'dd-1' });
    await expect
      .poll(() => received.filter((r) => r.headers['x-gridops-key'] === 'dd-1').length, { timeout: 10_000 })
      .toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    const deliveries = received.filter((r) => r.headers['x-gridops-key'] === 'dd-1');
    expect(deliveries).toHaveLength(2); // the refused attempt and the one taken; nothing after
    const last = deliveries[1]!;
    expect(JSON.parse(last.body)).toEqual({
      key: 'dd-1',
      title: 'Risk: drawdown 16 % from the peak 10000',
      lines: ['equity 8400'],
      severity: 'warning',
    });
    const expected = createHmac('sha256', SECRET).update(last.body).digest('hex');
    expect(last.headers['x-gridops-signature']).toBe(`sha256=${expected}`);
  });

  it('a permanent refusal is kept with its reason, not retried, not lost silently', async () => {
    answers.push(410);
    await notify({ key: 'dd-2', title: 'Risk: something to keep' });
    await expect
      .poll(
        async () =>
          app.rt.ds.query(`SELECT destination, notification_key, title, reason FROM notification_failure`),
        {
          timeout: 10_000,
        },
      )
      .toEqual([
        {
          destination: 'webhook',
          notification_key: 'dd-2',
          title: 'Risk: something to keep',
          reason: 'webhook answered 410',
        },
      ]);
    expect(received.filter((r) => r.headers['x-gridops-key'] === 'dd-2')).toHaveLength(1);
  });
});
