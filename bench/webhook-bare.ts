import Fastify from 'fastify';

/*
 * The baseline for `npm run bench -- webhook`: the same framework on the same machine, with a route that reads the
 * body as text, parses the JSON and answers 202, and nothing else (no checks, no Postgres, no queue). Run as its own
 * process, as the app is, and prints its address.
 */
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) =>
  done(null, body),
);
app.post('/webhook/tradingview', async (request, reply) => {
  const alert = JSON.parse(String(request.body)) as { symbol?: string };
  return reply.code(202).send({ status: 'accepted', symbol: alert.symbol ?? null });
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${address}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
