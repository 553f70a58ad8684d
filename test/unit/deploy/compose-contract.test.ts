import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema } from '../../../src/config.js';

/**
 * Docker cannot run on the project's machines, so the container setup is held to its contract by reading its files.
 * Protects what the README promises for `docker compose up`: .env reaches every app container (chat, TradingView and
 * Bybit settings included), compose refuses to start without API_TOKEN, REDIS_PASSWORD and POSTGRES_PASSWORD, the
 * api listens inside its container where the published port reaches it while the host publishes it on loopback only,
 * Redis and Postgres ask for passwords, and the image runs the app as `npm start` does, on Node 24 LTS, as a
 * non-root user, built from a context without .env or host-built node_modules.
 */
const ROOT = new URL('../../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, ROOT), 'utf8');

type Service = {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  env_file?: string | (string | { path: string })[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { host_ip?: string; target: number; published?: string | number })[];
  healthcheck?: { test: string[] | string; disable?: boolean };
  restart?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  network_mode?: string;
};

// YAML 1.1 merge keys (<<: *app), as compose reads them.
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const APP = ['worker', 'api', 'bot'] as const;

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no ${name} service`);
  return s;
}

function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const pairs = Array.isArray(env)
    ? env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(pairs);
}

function envFiles(name: string): string[] {
  const f = service(name).env_file;
  if (f === undefined) return [];
  return (Array.isArray(f) ? f : [f]).map((e) => (typeof e === 'string' ? e : e.path));
}

/** `${NAME:?message}`: compose stops with the message when NAME is unset or empty. */
const required = (name: string) => new RegExp(`\\$\\{${name}:\\?[^}]+\\}`);

describe('docker-compose.yml', () => {
  it('passes .env to every app service, each in its role', () => {
    for (const name of APP) {
      expect(envFiles(name).map((f) => f.replace(/^\.\//, ''))).toContain('.env');
      expect(service(name).command).toEqual(['--role', name]);
    }
  });

  it('refuses to start without API_TOKEN, and hands it to every app service', () => {
    for (const name of APP) expect(environment(name).API_TOKEN).toMatch(required('API_TOKEN'));
  });

  it('has the api listen on all its container interfaces, published on the host loopback only', () => {
    const env = environment('api');
    expect(env.HTTP_HOST).toBe('0.0.0.0');
    // .env's HTTP_PORT is for a process on the host; the container's port is the one published.
    const port = Number(env.HTTP_PORT ?? 8000);
    const ports = service('api').ports ?? [];
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) {
      if (typeof p === 'object') {
        expect(p.host_ip).toBe('127.0.0.1');
        expect(Number(p.target)).toBe(port);
      } else {
        expect(String(p)).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+:${port}(/tcp)?$`));
      }
    }
    // Nothing else is published, and nothing shares the host's network (which would skip the loopback binding).
    for (const [name, s] of Object.entries(services)) {
      if (name !== 'api') expect(s.ports ?? [], name).toEqual([]);
      expect(s.network_mode, name).toBeUndefined();
    }
  });

  it('runs Redis with a required password, and gives the app a REDIS_URL that carries it', () => {
    const command = service('redis').command;
    const args = Array.isArray(command) ? command : String(command).split(/\s+/);
    const at = args.indexOf('--requirepass');
    expect(at).toBeGreaterThan(-1);
    expect(args[at + 1]).toMatch(required('REDIS_PASSWORD'));
    for (const name of APP) {
      expect(environment(name).REDIS_URL).toMatch(
        /^redis:\/\/:\$\{REDIS_PASSWORD(:\?[^}]+)?\}@redis:6379(\/\d+)?$/,
      );
    }
    // Its healthcheck has to log in too, or Redis never counts as healthy and the app never starts.
    expect(environment('redis').REDISCLI_AUTH).toMatch(/^\$\{REDIS_PASSWORD(:\?[^}]+)?\}$/);
  });

  it('runs Postgres with a required password, never trust, and gives the app a DATABASE_URL that carries it', () => {
    const env = environment('postgres');
    expect(env.POSTGRES_PASSWORD).toMatch(required('POSTGRES_PASSWORD'));
    expect(env.POSTGRES_HOST_AUTH_METHOD ?? 'scram-sha-256').not.toBe('trust');
    for (const name of APP) {
      expect(environment(name).DATABASE_URL).toMatch(
        new RegExp(
          `^postgres://${env.POSTGRES_USER}:\\$\\{POSTGRES_PASSWORD(:\\?[^}]+)?\\}@postgres:5432/${env.POSTGRES_DB}$`,
        ),
      );
    }
  });

  it('restarts every service, checks the health of Postgres, Redis and the api, and starts the app after them', () => {
    for (const [name, s] of Object.entries(services)) expect(s.restart, name).toBe('unless-stopped');
    for (const name of ['postgres', 'redis', 'api']) {
      expect(service(name).healthcheck?.test, name).toBeTruthy();
      expect(service(name).healthcheck?.disable, name).not.toBe(true);
    }
    for (const name of APP) {
      expect(service(name).depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('names only variables the app reads (a typo would pass silently)', () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    for (const name of APP) {
      for (const key of Object.keys(environment(name))) expect(known.has(key), `${name}: ${key}`).toBe(true);
    }
  });

  it('asks only for variables that .env.example documents', () => {
    const asked = new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!));
    expect([...asked].sort()).toEqual(['API_TOKEN', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD']);
    const example = read('.env.example');
    for (const name of asked) expect(example, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const runtime = stages.at(-1) ?? [];

  it('builds every stage on Node 24 LTS', () => {
    expect(stages.length).toBeGreaterThan(1);
    for (const stage of stages)
      expect(stage[0]).toMatch(/^FROM\s+node:24(\.[\d.]+)?-[a-z-]+(@sha256:[0-9a-f]+)?(\s|$)/);
  });

  it('installs production dependencies with npm ci, keeping the optional ones (they carry native binaries)', () => {
    const runs = lines.filter((l) => /^RUN\s/.test(l));
    expect(runs.some((l) => /\bnpm ci\b.*--omit=dev\b/.test(l))).toBe(true);
    expect(runs.some((l) => /--omit=optional|--no-optional/.test(l))).toBe(false);
    // The runtime stage takes node_modules from a stage that installed without dev dependencies.
    const from = runtime.find((l) => /^COPY\s+--from=\S+\s+\S*node_modules/.test(l));
    const source = from?.match(/--from=(\S+)/)?.[1];
    const stage = stages.find((s) => new RegExp(`\\bAS\\s+${source}$`, 'i').test(s[0]!));
    expect(stage?.some((l) => /\bnpm ci\b.*--omit=dev\b/.test(l))).toBe(true);
  });

  it('runs what `npm start` runs, in production, as a user other than root', () => {
    expect(runtime.some((l) => /^ENV\s.*\bNODE_ENV=production\b/.test(l))).toBe(true);
    const user = runtime.filter((l) => /^USER\s/.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
    const entry = runtime.find((l) => /^ENTRYPOINT\s/.test(l));
    expect(entry).toBeDefined();
    const argv = JSON.parse(entry!.replace(/^ENTRYPOINT\s+/, '')) as string[];
    expect(argv.slice(-2).join(' ')).toBe(start.replace(/^exec\s+/, ''));
  });
});

describe('.dockerignore', () => {
  it('keeps .env, host-built node_modules and dist, and the git history out of the build context', () => {
    expect(existsSync(new URL('.dockerignore', ROOT))).toBe(true);
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.replace(/^(\*\*\/|\/)/, '').replace(/\/$/, ''));
    for (const excluded of ['.env', 'node_modules', 'dist', '.git'])
      expect(patterns, excluded).toContain(excluded);
    expect(patterns).not.toContain('!.env');
  });
});
