import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { SigningError } from '../../signing/index.js';
import { AppError, fromSigningError, type ErrorCode, type FieldProblem } from '../errors.js';

const PROBLEM_TYPE_BASE = 'https://sigil.dev/problems/';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId: string;
  errors?: FieldProblem[];
  [key: string]: unknown;
}

function send(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  // The problem's own fields last: a detail cannot replace its code or status.
  const body: ProblemBody = {
    ...error.details,
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: error.code.replace(/_/g, ' '),
    status: error.status,
    detail: error.message,
    code: error.code,
    instance: request.url.split('?')[0],
    requestId: String(request.id),
  };
  // RFC 9110 §10.2.3: a client told to wait is told for how long in the header too.
  if (typeof error.details.retryAfterSeconds === 'number')
    reply.header('retry-after', String(error.details.retryAfterSeconds));
  // A string body skips the route's response serializer: problems have their own shape.
  return reply.status(error.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(body));
}

/** Maps Fastify's own errors (parsing, limits) onto the catalogue. */
function fromFastify(error: FastifyError, reply: FastifyReply): AppError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('malformed_json', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Send the request body as application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('validation_failed', 'The Content-Length header does not match the body.');
  }
  if (error.statusCode === 429) {
    // The rate limiter has said how long in its Retry-After header (its windows are a minute).
    const after = Number(reply.getHeader('retry-after'));
    const retryAfterSeconds = Number.isFinite(after) && after > 0 ? Math.ceil(after) : 60;
    return new AppError('rate_limited', `Too many requests; try again in ${retryAfterSeconds} seconds.`, {
      retryAfterSeconds,
    });
  }
  if (error instanceof SyntaxError && error.statusCode === 400)
    return new AppError('malformed_json', 'The request body is not valid JSON.');
  return null;
}

/** Longest path parameter the router accepts (Fastify's default, stated): ids are UUIDs and SHA-256s. */
export const MAX_PARAM_LENGTH = 100;

/**
 * Errors the router raises before any route runs (Fastify's `frameworkErrors`), which would
 * otherwise answer Fastify's own JSON: a percent-escape that is not UTF-8, an over-long path parameter.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // These replies skip the app's onSend hooks, which set the request id on every other answer.
  reply.header('x-request-id', String(request.id));
  const [message, problem] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [
          `A path segment of the URL is longer than ${MAX_PARAM_LENGTH} characters.`,
          `has a path segment longer than ${MAX_PARAM_LENGTH} characters`,
        ]
      : error.code === 'FST_ERR_BAD_URL'
        ? ['The URL has a percent-escape that is not UTF-8 text.', 'has a percent-escape that is not UTF-8 text']
        : [null, null];
  if (message === null) {
    request.log.error({ err: error }, 'router error');
    return send(reply, request, new AppError('internal_error', 'Something went wrong on our side.'));
  }
  return send(
    reply,
    request,
    new AppError('validation_failed', message, { errors: [{ field: 'url', message: problem }] }),
  );
}

/** One validation issue as field problems a person can act on. */
function describeIssue(
  where: string,
  issue: { keyword: string; instancePath: string; message?: string; params: Record<string, unknown> },
): FieldProblem[] {
  const path = [where, ...issue.instancePath.split('/').filter(Boolean)].join('.');
  if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params.keys)) {
    return (issue.params.keys as string[]).map((key) => ({ field: `${path}.${key}`, message: 'is not a known field' }));
  }
  const message = issue.message ?? 'is not valid';
  if (issue.keyword === 'invalid_type' && message.endsWith('received undefined'))
    return [{ field: path, message: 'is required' }];
  return [{ field: path, message: message.replace(/^Invalid input: /, '') }];
}

/**
 * One error boundary. Known errors become problem+json with their code; anything
 * else is logged with the request id and answered with a bare 500 that leaks nothing.
 */
export function registerErrorHandling(app: FastifyInstance, consoleDir: string | undefined): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) return send(reply, request, error);
    if (error instanceof SigningError) return send(reply, request, fromSigningError(error));
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body';
      const problems: FieldProblem[] = error.validation.flatMap((issue) => describeIssue(where, issue));
      const summary = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
      return send(
        reply,
        request,
        new AppError('validation_failed', `The request is not valid: ${summary}`, { errors: problems }),
      );
    }
    const mapped = fromFastify(error, reply);
    if (mapped) return send(reply, request, mapped);
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
    } else {
      request.log.error({ err: error }, 'unhandled error');
    }
    return reply
      .status(500)
      .type('application/problem+json; charset=utf-8')
      .send(
        JSON.stringify({
          type: `${PROBLEM_TYPE_BASE}internal_error`,
          title: 'internal error',
          status: 500,
          detail: 'Something went wrong on our side. Quote the request id when you report it.',
          code: 'internal_error',
          requestId: String(request.id),
        }),
      );
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    // The console is a single-page app: its deep links are answered with its page.
    const isConsolePage =
      consoleDir && request.method === 'GET' && !path.startsWith('/api/') && !/\.[a-z0-9]+$/i.test(path);
    if (isConsolePage && existsSync(join(consoleDir, 'index.html'))) return reply.sendFile('index.html', consoleDir);
    return send(reply, request, new AppError('route_not_found', `There is no ${request.method} ${path}.`));
  });
}
