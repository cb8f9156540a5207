// One HTTP attempt of a delivery: POST the body to the endpoint, connected to the address the
// SSRF guard checked, within a time limit; what the receiver answers is read no further than a
// few kilobytes, and only its status is kept.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { hostOf, resolveTarget, type Lookup } from './webhook.address.js';

/** How much of an answer is read before the connection is closed: its body means nothing to us. */
const MAX_READ_BYTES = 4096;
const MAX_ERROR_LENGTH = 200;

export interface SendOptions {
  url: URL;
  body: string;
  headers: Record<string, string>;
  allowPrivate: boolean;
  timeoutMs: number;
  /** The job's signal: aborted when its time is up. */
  signal: AbortSignal;
  lookup?: Lookup;
}

/** A failed attempt, in words this server chose (never text from the receiver). */
export class SendError extends Error {
  constructor(message: string) {
    super(message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message);
    this.name = 'SendError';
  }
}

/** Sends one attempt and answers the HTTP status; throws `SendError` (network, timeout) or `UrlRefusedError`. */
export async function sendWebhook(options: SendOptions): Promise<{ status: number }> {
  const { url } = options;
  const target = await resolveTarget(url, {
    allowPrivate: options.allowPrivate,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  // The connection goes to the address just checked, whatever the resolver would answer now.
  const pinned: LookupFunction = (_host, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: { status: number } | Error) => {
      if (settled) return;
      settled = true;
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const request = client.request(
      {
        protocol: url.protocol,
        hostname: hostOf(url),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          ...options.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(options.body)),
          'user-agent': 'Sigil-Webhooks/1',
        },
        // A fresh connection each time: a pooled one could outlive the check of its address.
        agent: false,
        lookup: pinned,
        signal,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_READ_BYTES) response.destroy();
        });
        response.on('error', () => settle({ status }));
        response.on('close', () => settle({ status }));
        response.on('end', () => settle({ status }));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (timeout.aborted) settle(new SendError(`no answer within ${Math.round(options.timeoutMs / 1000)} s`));
      else if (options.signal.aborted) settle(new SendError('the attempt was abandoned (its job ran out of time)'));
      else settle(new SendError(error.code ? `${error.code}: ${error.message}` : error.message));
    });
    request.end(options.body);
  });
}
