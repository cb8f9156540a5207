import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { sha256Hex } from '../../lib/secrets.js';
import { AppError, forbidden } from '../errors.js';

/**
 * Prometheus metrics on a registry of this app's own, so several apps can live in one process (tests).
 * Routes, error rates and timings tell an outsider what the server does: with a token
 * (SIGIL_METRICS_TOKEN) a scraper presents it as a bearer token from anywhere; without one, only a
 * scraper on this machine (a loopback address, or the forwarded client address behind a trusted proxy) is answered.
 */
export function registerMetrics(app: FastifyInstance, token: string | undefined): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sigil_' });
  const requests = new Counter({
    name: 'sigil_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'sigil_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in URLs would explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { auth: 'public' }, schema: { hide: true } }, async (request, reply) => {
    admitScraper(request, token);
    reply.type(registry.contentType);
    return registry.metrics();
  });
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function admitScraper(request: FastifyRequest, token: string | undefined): void {
  if (token === undefined) {
    if (!LOOPBACK.test(request.ip))
      throw forbidden(
        'Metrics are answered on this machine only; set SIGIL_METRICS_TOKEN to scrape them from elsewhere.',
      );
    return;
  }
  const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
  // Compared as digests: equal length whatever was sent, and in constant time.
  const digest = (text: string) => Buffer.from(sha256Hex(text), 'hex');
  if (!timingSafeEqual(digest(given), digest(token)))
    throw new AppError('unauthenticated', 'Metrics need the bearer token set in SIGIL_METRICS_TOKEN.');
}
