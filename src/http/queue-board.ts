import { createBullBoard } from '@bull-board/api';
import type { BaseAdapter } from '@bull-board/api/dist/queueAdapters/base.js';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearer, refuseLockedOut, type TokenAuth } from './auth.js';

export const BOARD_PATH = '/queues';

/**
 * bull-board at /queues, for operators only, and read-only: it shows the queues and their jobs, and changes nothing
 * (no job added, retried, removed or promoted, no queue paused or cleaned, no scheduler removed). What an operator
 * legitimately does with jobs is an audited API route and CLI command (POST /api/deliveries/retry).
 *
 * It is a browser app whose own requests carry no Authorization header, so a sign-in form (or the dashboard, which
 * holds the token) trades the operator token for an HttpOnly session cookie of 12 hours; scripts may send the bearer
 * token instead. The cookie only ever reads.
 *
 * The queues come as bull-board adapters, made read-only where the queues are known (src/composition/api-role.ts),
 * so HTTP never holds a queue it could add to.
 */
export async function queueBoard(
  app: FastifyInstance,
  options: { auth: TokenAuth; queues: readonly BaseAdapter[] },
): Promise<void> {
  const { auth } = options;

  await app.register(async (login) => {
    login.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    login.addHook('onRequest', async (request, reply) => {
      if (request.method === 'POST' && (await refuseLockedOut(auth, request, reply))) return reply;
    });
    login.get(`${BOARD_PATH}/login`, { schema: { hide: true } }, async (_request, reply) =>
      signInPage(reply, 200, ''),
    );
    login.post(`${BOARD_PATH}/login`, { schema: { hide: true } }, async (request, reply) => {
      const token = ((request.body as Record<string, string> | undefined)?.token ?? '').trim();
      const actor = auth.check(request.ip, token === '' ? null : token);
      if (!actor) return signInPage(reply, 401, 'That token is not valid.');
      if (actor.role !== 'operator')
        return signInPage(reply, 403, 'The queue board needs the operator token.');
      return reply
        .code(303)
        .header('set-cookie', auth.boardCookie(request.protocol === 'https'))
        .header('location', `${BOARD_PATH}/`)
        .send();
    });
    // Signing out needs no session: clearing the cookie is harmless whoever asks.
    login.get(`${BOARD_PATH}/logout`, { schema: { hide: true } }, async (_request, reply) =>
      signOutPage(reply),
    );
    login.post(`${BOARD_PATH}/logout`, { schema: { hide: true } }, async (request, reply) =>
      reply
        .code(303)
        .header('set-cookie', auth.clearBoardCookie(request.protocol === 'https'))
        .header('cache-control', 'no-store')
        .header('location', `${BOARD_PATH}/login`)
        .send(),
    );
  });

  await app.register(async (board) => {
    board.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      // Defence in depth beside the adapters' read-only mode: nothing but reads reaches bull-board.
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return reply
          .code(405)
          .header('allow', 'GET, HEAD')
          .send({ error: 'the queue board is read-only', code: 'read-only' });
      }
      if (await refuseLockedOut(auth, request, reply)) return reply;
      const token = bearer(request);
      const actor = token === null ? null : auth.check(request.ip, token);
      if (actor?.role === 'operator' || (token === null && auth.hasBoardSession(request.headers.cookie)))
        return;
      if (actor)
        return reply.code(403).send({ error: 'the queue board needs the operator token', code: 'forbidden' });
      if ((request.headers.accept ?? '').includes('text/html')) {
        return reply.code(303).header('location', `${BOARD_PATH}/login`).send();
      }
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="gridops"')
        .send({ error: 'a valid bearer token or board session is required', code: 'unauthorized' });
    });
    const adapter = new FastifyAdapter();
    adapter.setBasePath(BOARD_PATH);
    createBullBoard({
      queues: options.queues,
      serverAdapter: adapter,
      options: {
        uiConfig: {
          boardTitle: 'GridOps queues',
          ...(auth.open ? {} : { miscLinks: [{ text: 'Sign out', url: `${BOARD_PATH}/logout` }] }),
        },
      },
    });
    await board.register(adapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}

const PAGE_STYLE = `body{font:16px system-ui,sans-serif;background:#111827;color:#e5e7eb;display:grid;place-items:center;min-height:90vh}
form{background:#1f2937;padding:24px;border-radius:10px;display:grid;gap:12px;min-width:280px}
input,button{font:inherit;padding:8px;border-radius:6px;border:1px solid #374151}button{background:#2563eb;color:#fff}
.problem{color:#f87171}`;

function page(reply: FastifyReply, status: number, title: string, form: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>GridOps queues: ${title}</title>
<style>${PAGE_STYLE}</style></head>
<body>${form}</body></html>`);
}

function signInPage(reply: FastifyReply, status: number, problem: string): FastifyReply {
  return page(
    reply,
    status,
    'sign in',
    `<form method="post" action="${BOARD_PATH}/login"><h1>Queue board</h1>
<label>Operator token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
${problem ? `<p class="problem">${problem}</p>` : ''}<button type="submit">Sign in</button></form>`,
  );
}

function signOutPage(reply: FastifyReply): FastifyReply {
  return page(
    reply,
    200,
    'sign out',
    `<form method="post" action="${BOARD_PATH}/logout"><h1>Queue board</h1>
<p>End this browser's queue board session?</p><button type="submit">Sign out</button></form>`,
  );
}
