import { PNG } from 'pngjs';
import type { HttpCall } from '../../src/devices/http-link.js';
import type { World } from './world.js';

/** Calls the app in process as the holder of `token`, the way the phone app calls the server. */
export function injectCall(world: World, token: string): HttpCall {
  return async (method, path, payload) => {
    const response = await world.app.inject({
      method,
      url: path,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload && 'bytes' in payload ? { 'content-type': payload.contentType } : {}),
      },
      ...(payload ? { payload: 'json' in payload ? (payload.json as object) : Buffer.from(payload.bytes) } : {}),
    });
    return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
  };
}

let photoCounter = 0;
/** A distinct small PNG per call: a photo of stamped paper. */
export function stampPhoto(): Buffer {
  const png = new PNG({ width: 8, height: 8 });
  png.data.fill(120);
  png.data.writeUInt32BE(++photoCounter, 0);
  return PNG.sync.write(png);
}
