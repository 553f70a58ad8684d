import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * GET /: the dashboard, one server-rendered page with a little inline script that reads the REST API. Nothing secret
 * is in the page: the token is asked for in a sign-in form and kept in the tab's sessionStorage. No CDN, no build
 * step; a per-response nonce lets only this page's own script and style run.
 */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const nonce = randomBytes(16).toString('base64');
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header(
        'content-security-policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' blob: data:; ` +
          `connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      )
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(page(nonce));
  });
}

function page(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GridOps</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>GridOps</h1>
  <span id="kill-badge" class="pill" hidden></span>
  <span class="spacer"></span>
  <span id="role" class="muted"></span>
  <a id="queues-link" href="/queues/" hidden>Queues</a>
  <a href="/docs/">API</a>
  <button id="sign-out" class="link" hidden>Sign out</button>
</header>

<section id="sign-in" hidden>
  <form id="sign-in-form" class="card narrow">
    <h2>Sign in</h2>
    <p class="muted">The API token (API_TOKEN, or API_READONLY_TOKEN to look only). It stays in this tab.</p>
    <input type="text" name="username" value="gridops" autocomplete="username" hidden>
    <label>Token <input id="token" type="password" autocomplete="current-password" required></label>
    <p id="sign-in-problem" class="problem" role="alert"></p>
    <button type="submit">Sign in</button>
  </form>
</section>

<main id="app" hidden>
  <p id="problem" class="problem" role="alert"></p>
  <section>
    <h2>Grids</h2>
    <div id="grids" class="cards"><p class="muted">Loading...</p></div>
  </section>
  <section class="two">
    <div class="card" id="risk">
      <h2>Risk</h2>
      <dl>
        <dt>Kill switch</dt><dd id="risk-killed">-</dd>
        <dt>Drawdown</dt><dd id="risk-drawdown">-</dd>
        <dt>Exchange error rate</dt><dd id="risk-errors">-</dd>
        <dt>Breakers</dt><dd id="risk-breakers">-</dd>
        <dt>Last incident</dt><dd id="risk-incident">-</dd>
      </dl>
      <button id="kill" class="danger operator" hidden>Pull the kill switch</button>
    </div>
    <div class="card">
      <h2>P/L <select id="period"><option value="day">24 h</option><option value="week">7 days</option>
        <option value="month">30 days</option><option value="all">all</option></select></h2>
      <p id="pnl-figures" class="muted">-</p>
      <img id="pnl-chart" alt="P/L chart" width="1000" height="560">
    </div>
  </section>
  <section class="two">
    <div class="card"><h2>Recent trades</h2>
      <table><thead><tr><th>time</th><th>grid</th><th>side</th><th>price</th><th>qty</th><th>net</th></tr></thead>
      <tbody id="trades"></tbody></table></div>
    <div class="card"><h2>TradingView alerts</h2>
      <table><thead><tr><th>time</th><th>symbol</th><th>action</th><th>outcome</th></tr></thead>
      <tbody id="alerts"></tbody></table></div>
  </section>
  <section class="card">
    <h2>Market</h2>
    <div id="prices" class="chips"></div>
    <div id="market" class="muted">-</div>
  </section>
  <footer class="muted">Updated <span id="updated">never</span>; refreshes every 5 s.</footer>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
:root{--bg:#111827;--card:#1f2937;--line:#374151;--text:#e5e7eb;--muted:#9ca3af;--green:#4ade80;--red:#f87171;
--amber:#fbbf24;--blue:#38bdf8}
*{box-sizing:border-box}body{margin:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;gap:12px;align-items:center;padding:10px 16px;border-bottom:1px solid var(--line);flex-wrap:wrap}
header h1{font-size:20px;margin:0}.spacer{flex:1}a{color:var(--blue)}
main,#sign-in{padding:12px 16px;max-width:1400px;margin:0 auto}
h2{font-size:16px;margin:0 0 8px}section{margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px}
.narrow{max-width:380px;margin:40px auto;display:grid;gap:10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:12px}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:12px}
.grid-card h3{margin:0;font-size:16px;display:flex;justify-content:space-between;align-items:flex-start;gap:8px}
.grid-card dl,#risk dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:8px 0}
dt{color:var(--muted)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
.pill{padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.running{color:var(--green)}.paused{color:var(--amber)}.stopped,.killed{color:var(--red)}.created{color:var(--blue)}
.pos{color:var(--green)}.neg{color:var(--red)}.muted{color:var(--muted)}.problem{color:var(--red);min-height:1em}
button{font:inherit;padding:6px 12px;border-radius:6px;border:1px solid var(--line);background:#374151;color:var(--text);cursor:pointer}
button.danger{background:#7f1d1d;border-color:#b91c1c}button.link{background:none;border:none;color:var(--blue);padding:0}
.actions{display:flex;gap:8px;flex-wrap:wrap}input,select{font:inherit;padding:6px;border-radius:6px;border:1px solid var(--line);background:#111827;color:var(--text)}
label{display:grid;gap:4px}table{width:100%;border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:3px 4px;border-bottom:1px solid var(--line)}th{color:var(--muted);font-weight:500}
#pnl-chart{width:100%;height:auto;border-radius:6px}.chips{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:8px}
.chip{background:#111827;border:1px solid var(--line);border-radius:6px;padding:4px 8px}
footer{padding:8px 0}
`;

// Data is only ever put on the page with textContent: alert fields come from outside and must not become markup.
const SCRIPT = `
'use strict';
const KEY = 'gridops-token';
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(KEY);
let role = null;
let timer = null;
let chartUrl = null;

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

class AuthError extends Error {}

async function api(path, init) {
  const headers = token ? { authorization: 'Bearer ' + token } : {};
  const res = await fetch(path, { ...(init || {}), headers, cache: 'no-store' });
  if (res.status === 401) throw new AuthError('not signed in');
  return res;
}

async function json(path) {
  const res = await api(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

function signOut(message) {
  token = null;
  sessionStorage.removeItem(KEY);
  if (timer) clearInterval(timer);
  timer = null;
  $('app').hidden = true;
  $('sign-out').hidden = true;
  $('queues-link').hidden = true;
  $('role').textContent = '';
  $('sign-in').hidden = false;
  $('sign-in-problem').textContent = message || '';
  $('token').focus();
}

async function start() {
  let who;
  try {
    who = await json('/api/whoami');
  } catch (e) {
    signOut(token ? 'That token is not valid.' : '');
    return;
  }
  role = who.role;
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = who.auth === 'none';
  $('role').textContent = role === 'operator' ? 'operator' : 'read-only';
  $('queues-link').hidden = role !== 'operator';
  for (const b of document.querySelectorAll('.operator')) b.hidden = role !== 'operator';
  await refresh();
  if (!timer) timer = setInterval(refresh, 5000);
  refreshMarket();
  setInterval(refreshMarket, 60000);
}

function money(s) {
  return s === null || s === undefined ? '-' : s;
}

function signed(s) {
  const span = el('span', { text: money(s) });
  if (s && s !== '0') span.className = s.startsWith('-') ? 'neg' : 'pos';
  return span;
}

function row(dl, label, value) {
  dl.append(el('dt', { text: label }), value instanceof Node ? el('dd', {}, value) : el('dd', { text: value }));
}

function gridCard(g) {
  const card = el('article', { class: 'card grid-card', 'data-grid-id': g.id });
  const title = el('h3', {}, el('span', { text: g.name + (g.demo ? ' (demo)' : '') }),
    el('span', { class: 'pill status ' + g.status, text: g.status }));
  const dl = el('dl');
  row(dl, 'symbol', g.symbol);
  row(dl, 'price', money(g.lastPrice));
  row(dl, 'range', g.lower + ' - ' + g.upper + ' (' + g.grids + ' grids, ' + g.mode + ')');
  row(dl, 'position (base)', g.baseQty);
  row(dl, 'quote held', g.quoteBalance);
  row(dl, 'open orders', String(g.openOrders));
  row(dl, 'realized P/L', signed(g.realizedPnl));
  row(dl, 'fees', money(g.fees));
  row(dl, 'unrealized P/L', signed(g.unrealizedPnl));
  card.append(title, dl);
  if (g.stopReason) card.append(el('p', { class: 'muted', text: 'stopped: ' + g.stopReason }));
  if (role === 'operator' && g.status !== 'stopped') {
    const actions = el('div', { class: 'actions' });
    if (g.status === 'running') actions.append(button(g, 'pause'));
    if (g.status === 'paused') actions.append(button(g, 'resume'));
    actions.append(button(g, 'stop'));
    card.append(actions);
  }
  return card;
}

function button(g, action) {
  const b = el('button', { 'data-action': action, 'data-grid': g.id, text: action[0].toUpperCase() + action.slice(1) });
  if (action === 'stop') b.className = 'danger';
  b.addEventListener('click', async () => {
    const what = action === 'stop'
      ? 'Stop grid ' + g.name + ' (' + g.symbol + ')? Its orders are cancelled; a stopped grid does not restart.'
      : action[0].toUpperCase() + action.slice(1) + ' grid ' + g.name + ' (' + g.symbol + ')?';
    if (!confirm(what)) return;
    await act('/api/grids/' + encodeURIComponent(g.id) + '/' + action);
  });
  return b;
}

async function act(path) {
  try {
    const res = await api(path, { method: 'POST' });
    const body = await res.json().catch(() => ({}));
    $('problem').textContent = res.ok ? '' : (body.error || res.statusText);
  } catch (e) {
    if (e instanceof AuthError) return signOut('Signed out: the token is no longer valid.');
    $('problem').textContent = String(e.message || e);
  }
  await refresh();
}

function table(id, rows, cells) {
  const body = $(id);
  body.replaceChildren(...rows.map((r) => el('tr', {}, ...cells(r).map((c) => c instanceof Node ? el('td', {}, c) : el('td', { text: c })))));
  if (rows.length === 0) body.append(el('tr', {}, el('td', { class: 'muted', colspan: '6', text: 'none yet' })));
}

function time(iso) {
  return iso ? iso.replace('T', ' ').slice(5, 19) : '-';
}

async function refresh() {
  try {
    const period = $('period').value;
    const [grids, risk, trades, alerts, prices, pnl] = await Promise.all([
      json('/api/grids'), json('/api/risk'), json('/api/trades?limit=10'), json('/api/alerts?limit=10'),
      json('/api/prices'), json('/api/pnl?period=' + period),
    ]);
    $('grids').replaceChildren(...(grids.grids.length ? grids.grids.map(gridCard) : [el('p', { class: 'muted', text: 'No grids yet.' })]));
    renderRisk(risk);
    table('trades', trades.trades, (t) => [time(t.at), t.gridId, t.side, t.price, t.qty, signed(t.net)]);
    table('alerts', alerts.alerts, (a) => [time(a.receivedAt), a.symbol || '-', a.action, a.outcome || (a.processed ? '-' : 'pending')]);
    $('prices').replaceChildren(...prices.prices.map((p) => el('span', { class: 'chip', text: p.symbol + ' ' + p.price })));
    $('pnl-figures').replaceChildren('net ', signed(pnl.net), ' = realized ' + pnl.realized + ' - fees ' + pnl.fees + ' (' + pnl.fills + ' fills)');
    await refreshChart(period);
    $('problem').textContent = '';
    $('updated').textContent = new Date().toLocaleTimeString();
  } catch (e) {
    if (e instanceof AuthError) return signOut('Signed out: the token is no longer valid.');
    $('problem').textContent = 'Could not refresh: ' + (e.message || e);
  }
}

function renderRisk(r) {
  const badge = $('kill-badge');
  badge.hidden = !r.killed;
  badge.className = 'pill killed';
  badge.textContent = 'KILLED';
  $('risk-killed').textContent = r.killed ? 'ON since ' + time(r.killedAt) + ' (' + (r.trigger || '?') + ')' : 'off';
  $('risk-killed').className = r.killed ? 'neg' : 'pos';
  $('risk-drawdown').textContent = r.drawdownPct === null ? '-' : r.drawdownPct + ' % (' + r.drawdownLevel + ')';
  $('risk-errors').textContent = r.errorRate === null ? '-' : r.errorRate + ' % (' + r.errorRateLevel + ')';
  $('risk-breakers').textContent = r.breakers.length ? r.breakers.join(', ') : 'none tripped';
  const i = r.lastIncident;
  $('risk-incident').textContent = i ? '#' + i.id + ' ' + time(i.at) + ': ' + i.trigger + ', ' + i.gridsStopped + ' grids stopped, ' + i.outcome : 'none';
  $('kill').hidden = role !== 'operator' || r.killed;
}

async function refreshChart(period) {
  const res = await api('/api/pnl.png?period=' + period);
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  $('pnl-chart').src = url;
  if (chartUrl) URL.revokeObjectURL(chartUrl);
  chartUrl = url;
}

async function refreshMarket() {
  try {
    const m = await json('/api/market');
    const box = $('market');
    if (!m.available) {
      box.textContent = m.error || 'market data unavailable';
      return;
    }
    const list = (title, coins, pick) => el('p', {}, el('strong', { text: title + ': ' }), coins.map(pick).join(', ') || '-');
    box.replaceChildren(
      list('Top', m.top, (c) => c.symbol + ' ' + c.price),
      list('Gainers', m.gainers, (c) => c.symbol + ' +' + c.change24hPct + ' %'),
      list('Losers', m.losers, (c) => c.symbol + ' ' + c.change24hPct + ' %'),
      list('Trending', m.trending, (c) => c.symbol),
    );
  } catch (e) {
    if (e instanceof AuthError) return;
    $('market').textContent = 'market data unavailable';
  }
}

$('sign-in-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  token = $('token').value.trim();
  $('token').value = '';
  sessionStorage.setItem(KEY, token);
  start();
});
$('sign-out').addEventListener('click', () => signOut(''));
$('period').addEventListener('change', () => refresh());
$('kill').addEventListener('click', async () => {
  if (!confirm('Pull the kill switch? Every grid stops and every open order is cancelled; only an operator can reset it.')) return;
  await act('/api/kill');
});
$('queues-link').addEventListener('click', (ev) => {
  // The board cannot send the token as a header: trade it for its cookie, in a new tab.
  if (!token) return;
  ev.preventDefault();
  const f = el('form', { method: 'post', action: '/queues/login', target: '_blank' });
  f.append(el('input', { type: 'hidden', name: 'token', value: token }));
  document.body.append(f);
  f.submit();
  f.remove();
});
start();
`;
