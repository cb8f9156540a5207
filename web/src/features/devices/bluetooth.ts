/**
 * The phone's Bluetooth link to a smart seal, where the browser has Web Bluetooth (Chrome on
 * Android and desktop; not Safari or Firefox, and never in the headless tests, which relay through
 * the text payload and the pasted log instead).
 *
 * docs/device-protocol.md names the messages but not yet their GATT profile; this is the profile
 * the console proposes, to be written into the protocol's next revision with the firmware makers:
 * one primary service, a write characteristic that takes a message as UTF-8 JSON
 * `{"kind":"ticket"|"directive"|"photo"|"location"|"qr_lost"|"end", ...}` in chunks ending with a line feed,
 * and a notify characteristic that sends each new signed event as one JSON line.
 */
import type { SignedDeviceMessage } from '../../api';

export const SEAL_SERVICE = '5ea10001-5167-4c00-8000-00805f9b34fb';
const WRITE_CHARACTERISTIC = '5ea10002-5167-4c00-8000-00805f9b34fb';
const EVENT_CHARACTERISTIC = '5ea10003-5167-4c00-8000-00805f9b34fb';
/** The ATT payload every BLE 4.2+ phone accepts without negotiation, less the 3-byte header. */
const CHUNK = 180;

interface GattCharacteristic extends EventTarget {
  value?: DataView;
  writeValueWithResponse(data: BufferSource): Promise<void>;
  startNotifications(): Promise<GattCharacteristic>;
}
interface GattService {
  getCharacteristic(uuid: string): Promise<GattCharacteristic>;
}
interface GattServer {
  connect(): Promise<GattServer>;
  disconnect(): void;
  getPrimaryService(uuid: string): Promise<GattService>;
}
interface BluetoothDeviceLike extends EventTarget {
  name?: string;
  gatt?: GattServer;
}
interface BluetoothLike {
  requestDevice(options: { filters: Array<{ services?: string[]; name?: string }> }): Promise<BluetoothDeviceLike>;
}

function bluetooth(): BluetoothLike | null {
  const nav = navigator as Navigator & { bluetooth?: BluetoothLike };
  return nav.bluetooth ?? null;
}

export const hasWebBluetooth = (): boolean => bluetooth() !== null && window.isSecureContext;

export interface SealLink {
  name: string;
  send(message: { kind: 'ticket' | 'directive'; message: SignedDeviceMessage }): Promise<void>;
  sendPhoto(use: number, sha256: string): Promise<void>;
  /** The phone's position, for the events that follow (§8 `loc`: micro-degrees, metres). */
  sendLocation(location: { lat: number; lon: number; acc: number }): Promise<void>;
  close(): void;
}

/** Asks the person to pick the seal named `serial`, connects, and passes each event it logs to `onEvent`. */
export async function connectSeal(serial: string, onEvent: (event: SignedDeviceMessage) => void): Promise<SealLink> {
  const bt = bluetooth();
  if (!bt) throw new Error('Web Bluetooth is not available in this browser');
  const device = await bt.requestDevice({ filters: [{ services: [SEAL_SERVICE], name: serial }] });
  if (!device.gatt) throw new Error('the seal offers no GATT server');
  const server = await device.gatt.connect();
  const service = await server.getPrimaryService(SEAL_SERVICE);
  const write = await service.getCharacteristic(WRITE_CHARACTERISTIC);
  const events = await service.getCharacteristic(EVENT_CHARACTERISTIC);
  let pending = '';
  events.addEventListener('characteristicvaluechanged', () => {
    if (!events.value) return;
    pending += new TextDecoder().decode(events.value);
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line) onEvent(JSON.parse(line) as SignedDeviceMessage);
    }
  });
  await events.startNotifications();
  const sendJson = async (value: unknown) => {
    const bytes = new TextEncoder().encode(`${JSON.stringify(value)}\n`);
    for (let i = 0; i < bytes.length; i += CHUNK) await write.writeValueWithResponse(bytes.slice(i, i + CHUNK));
  };
  return {
    name: device.name ?? serial,
    send: ({ kind, message }) => sendJson({ kind, ...message }),
    sendPhoto: (use, sha256) => sendJson({ kind: 'photo', use, photo: sha256 }),
    sendLocation: (location) => sendJson({ kind: 'location', ...location }),
    close: () => server.disconnect(),
  };
}
