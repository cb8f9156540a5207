import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('exposes Prometheus metrics counting requests by route pattern', async () => {
    const api = client(world);
    await api.get('/healthz');
    const metrics = await api.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.headers['content-type'])).toContain('text/plain');
    expect(metrics.body).toMatch(/sigil_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  });

  it('echoes a request id on every answer', async () => {
    const response = await world.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(response.headers['x-request-id']).toBe('trace-123');
  });
});
