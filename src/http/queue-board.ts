import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearer, type TokenAuth } from './auth.js';

export const BOARD_PATH = '/queues';

/**
 * bull-board at /queues, for operators only. It is a browser app whose own requests carry no Authorization header,
 * so a sign-in form (or the dashboard, which holds the token) trades the operator token for an HttpOnly cookie
 * derived from it; scripts may send the bearer token instead.
 */
export async function queueBoard(
  app: FastifyInstance,
  options: { auth: TokenAuth; queues: readonly Queue[] },
): Promise<void> {
  const { auth } = options;

  await app.register(async (login) => {
    login.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    login.get(`${BOARD_PATH}/login`, { schema: { hide: true } }, async (_request, reply) =>
      page(reply, 200, ''),
    );
    login.post(`${BOARD_PATH}/login`, { schema: { hide: true } }, async (request, reply) => {
      const token = (request.body as Record<string, string> | undefined)?.token ?? '';
      const actor = auth.actorFor(token.trim() === '' ? null : token.trim());
      if (!actor) return page(reply, 401, 'That token is not valid.');
      if (actor.role !== 'operator') return page(reply, 403, 'The queue board needs the operator token.');
      return reply
        .code(303)
        .header('set-cookie', auth.boardCookie(request.protocol === 'https'))
        .header('location', `${BOARD_PATH}/`)
        .send();
    });
  });

  await app.register(async (board) => {
    board.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.url.startsWith(`${BOARD_PATH}/login`)) return;
      const actor = auth.actorFor(bearer(request));
      if (actor?.role === 'operator' || auth.hasBoardCookie(request.headers.cookie)) return;
      if (actor)
        return reply.code(403).send({ error: 'the queue board needs the operator token', code: 'forbidden' });
      if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
        return reply.code(303).header('location', `${BOARD_PATH}/login`).send();
      }
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="gridops"')
        .send({ error: 'a valid bearer token is required', code: 'unauthorized' });
    });
    const adapter = new FastifyAdapter();
    adapter.setBasePath(BOARD_PATH);
    createBullBoard({
      queues: options.queues.map((q) => new BullMQAdapter(q)),
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: 'GridOps queues' } },
    });
    await board.register(adapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}

function page(reply: FastifyReply, status: number, problem: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>GridOps queues: sign in</title>
<style>body{font:16px system-ui,sans-serif;background:#111827;color:#e5e7eb;display:grid;place-items:center;min-height:90vh}
form{background:#1f2937;padding:24px;border-radius:10px;display:grid;gap:12px;min-width:280px}
input,button{font:inherit;padding:8px;border-radius:6px;border:1px solid #374151}button{background:#2563eb;color:#fff}
.problem{color:#f87171}</style></head>
<body><form method="post" action="${BOARD_PATH}/login"><h1>Queue board</h1>
<label>Operator token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
${problem ? `<p class="problem">${problem}</p>` : ''}<button type="submit">Sign in</button></form></body></html>`);
}
