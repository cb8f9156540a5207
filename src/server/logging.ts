import type { DestinationStream, LoggerOptions } from 'pino';

/**
 * What an error may say in the log. Database errors carry the failing row (`detail`: "Failing row
 * contains (…, scrypt$15$…, …)"), PGlite's also the statement's parameters; other libraries attach
 * requests, headers and configuration. An allow-list, so a field nobody reviewed is never written:
 * enough to find the cause (the code, the constraint, the table, the stack), never the values.
 */
const ERROR_FIELDS = [
  'code',
  'statusCode',
  'severity',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'routine',
  'validationContext',
] as const;

const MAX_CAUSES = 5;

export function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { type: typeof error, message: String(error) };
  const e = error as Record<string, unknown> & { message?: unknown; stack?: unknown; cause?: unknown };
  const out: Record<string, unknown> = {
    type: (error as { constructor?: { name?: string } }).constructor?.name ?? 'Object',
    message: typeof e.message === 'string' ? e.message : String(e.message ?? ''),
  };
  if (typeof e.stack === 'string') out.stack = e.stack;
  for (const field of ERROR_FIELDS) {
    const value = e[field];
    if (typeof value === 'string' || typeof value === 'number') out[field] = value;
  }
  if (e.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/**
 * Fields that hold secrets wherever they appear in a log line's objects (one level down, as pino
 * redacts): a defence in depth, since nothing logs request bodies or headers today.
 */
const REDACTED = ['password', 'currentPassword', 'newPassword', 'token', 'secret', 'pin', 'pkcs12Base64'];

/** The server's pino options: Sigil's error serializer and redaction at every level. */
export function loggerOptions(options: { level: string; stream?: DestinationStream | undefined }): LoggerOptions & {
  stream?: DestinationStream;
} {
  return {
    level: options.level,
    serializers: { err: (error: unknown) => serializeError(error) },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        ...REDACTED,
        ...REDACTED.map((field) => `*.${field}`),
      ],
      censor: '[redacted]',
    },
    ...(options.stream ? { stream: options.stream } : {}),
  };
}
