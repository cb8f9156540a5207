// The phone's link to the platform over Sigil's HTTP API: tickets from POST /device-tickets, syncs
// to POST /device-sync, photos to POST /devices/{id}/photos. The transport is passed in (fetch
// against a server, or Fastify's inject in process), so the simulator runs the same calls either way.
import type { PlatformLink, SyncAnswer } from './relay.js';
import type { SignedMessage } from './protocol.js';

export interface HttpAnswer {
  status: number;
  body: unknown;
}

export type HttpCall = (
  method: 'GET' | 'POST',
  path: string,
  payload: { json: unknown } | { bytes: Uint8Array; contentType: string } | null,
) => Promise<HttpAnswer>;

/** A problem+json answer as an error that names its code and detail. */
export class PlatformError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(`${status} ${code}: ${detail}`);
    this.name = 'PlatformError';
  }
}

function expectOk(answer: HttpAnswer, ok: number[]): unknown {
  if (ok.includes(answer.status)) return answer.body;
  const problem = (answer.body ?? {}) as { code?: string; detail?: string };
  throw new PlatformError(answer.status, problem.code ?? 'unknown', problem.detail ?? String(answer.body));
}

export function createHttpLink(call: HttpCall): PlatformLink & {
  deviceIdOf(serial: string): Promise<string>;
} {
  const ids = new Map<string, string>();
  async function deviceIdOf(serial: string): Promise<string> {
    let id = ids.get(serial);
    if (!id) {
      const list = expectOk(await call('GET', '/api/v1/devices', null), [200]) as {
        items: Array<{ id: string; serial: string }>;
      };
      id = list.items.find((d) => d.serial === serial)?.id;
      if (!id) throw new PlatformError(404, 'device_not_found', `no device ${serial} is visible to this account`);
      ids.set(serial, id);
    }
    return id;
  }
  return {
    async fetchTicket(authorizationId) {
      const body = expectOk(await call('POST', '/api/v1/device-tickets', { json: { authorizationId } }), [200]) as {
        deviceId: string;
        serial: string;
        ticket: SignedMessage;
      };
      ids.set(body.serial, body.deviceId);
      return body.ticket;
    },
    async sync(serial, events) {
      return expectOk(await call('POST', '/api/v1/device-sync', { json: { serial, events } }), [200]) as SyncAnswer;
    },
    async uploadPhoto(serial, photo) {
      const id = await deviceIdOf(serial);
      expectOk(
        await call('POST', `/api/v1/devices/${id}/photos`, { bytes: photo.bytes, contentType: photo.mediaType }),
        [201],
      );
    },
    deviceIdOf,
  };
}

/** `fetch` against a running server, as `holder of token`. */
export function fetchCall(baseUrl: string, token: string): HttpCall {
  return async (method, path, payload) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let body: string | Buffer | undefined;
    if (payload && 'json' in payload) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(payload.json);
    } else if (payload) {
      headers['content-type'] = payload.contentType;
      body = Buffer.from(payload.bytes);
    }
    const response = await fetch(new URL(path, baseUrl), { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  };
}
