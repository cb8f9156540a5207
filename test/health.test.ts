import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/server/app.js';
import { Readiness } from '../src/server/readiness.js';
import { client, createWorld, type World } from './support/world.js';

let world: World;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(() => world.close());

describe('health and metrics', () => {
  it('answers /healthz and /readyz with the database kind', async () => {
    const api = client(world);
    expect((await api.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', database: process.env.DATABASE_URL ? 'postgres' : 'pglite' });
  });

  it('answers /readyz 503, naming what it waits for, until start-up work is done', async () => {
    const readiness = new Readiness();
    const app = await buildApp(world.ctx, { logger: false, readiness });
    try {
      const done = readiness.hold('demo seed');
      const waiting = await app.inject({ method: 'GET', url: '/readyz' });
      expect(waiting.statusCode).toBe(503);
      expect(waiting.json()).toMatchObject({ status: 'starting', waitingFor: ['demo seed'] });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      done();
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('exposes Prometheus metrics counting requests by route pattern', async () => {
    const api = client(world);
    await api.get('/healthz');
    const metrics = await api.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.headers['content-type'])).toContain('text/plain');
    expect(metrics.body).toMatch(/sigil_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  });

  it('answers metrics to this machine only, unless a token is set, and then to its bearer only', async () => {
    const from = (remoteAddress: string, app = world.app, authorization?: string) =>
      app.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress,
        ...(authorization ? { headers: { authorization } } : {}),
      });
    const outside = await from('203.0.113.7');
    expect(outside.statusCode).toBe(403);
    expect(outside.json()).toMatchObject({ code: 'forbidden', detail: expect.stringContaining('SIGIL_METRICS_TOKEN') });
    expect((await from('::1')).statusCode).toBe(200);

    const token = 'scrape-me-7f3a9c2e11';
    const app = await buildApp(
      { ...world.ctx, config: { ...world.ctx.config, metricsToken: token } },
      { logger: false },
    );
    try {
      expect((await from('203.0.113.7', app, `Bearer ${token}`)).statusCode).toBe(200);
      expect((await from('203.0.113.7', app, 'Bearer scrape-me-wrong')).statusCode).toBe(401);
      const local = await from('127.0.0.1', app);
      expect(local.statusCode).toBe(401);
      expect(local.json().code).toBe('unauthenticated');
    } finally {
      await app.close();
    }
  });

  it('echoes a request id on every answer', async () => {
    const response = await world.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(response.headers['x-request-id']).toBe('trace-123');
  });
});
