// Where a webhook may go: a guard against server-side request forgery. An endpoint is refused when
// its URL is not http(s), carries credentials, or names (or, at delivery, resolves to) an address
// inside a network: loopback, private, link-local, unique-local, CGNAT, multicast, reserved, and
// the IPv6 forms that embed such an IPv4 address. SIGIL_WEBHOOKS_ALLOW_PRIVATE lifts the address
// rule (a deployment whose receivers sit on its own network), never the others.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

export class UrlRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlRefusedError';
  }
}

/** The host of a URL as an address or a name: IPv6 literals lose their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function ipv4Bytes(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/** The 16 bytes of an IPv6 address (zone dropped), or null when it is not one. */
function ipv6Bytes(text: string): number[] | null {
  let rest = text.split('%')[0]!.toLowerCase();
  let embedded: number[] | null = null;
  const lastColon = rest.lastIndexOf(':');
  if (rest.slice(lastColon + 1).includes('.')) {
    embedded = ipv4Bytes(rest.slice(lastColon + 1));
    if (!embedded) return null;
    rest = `${rest.slice(0, lastColon + 1)}0:0`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head.concat(tail).every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((g) =>
    parseInt(g, 16),
  );
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (embedded) bytes.splice(12, 4, ...embedded);
  return bytes;
}

function ipv4Refusal([a, b, c]: number[]): string | null {
  if (a === 0) return 'in 0.0.0.0/8 ("this network")';
  if (a === 10) return 'a private address (10.0.0.0/8)';
  if (a === 100 && (b! & 0xc0) === 64) return 'a shared CGNAT address (100.64.0.0/10)';
  if (a === 127) return 'a loopback address (127.0.0.0/8)';
  if (a === 169 && b === 254) return 'a link-local address (169.254.0.0/16)';
  if (a === 172 && (b! & 0xf0) === 16) return 'a private address (172.16.0.0/12)';
  if (a === 192 && b === 168) return 'a private address (192.168.0.0/16)';
  if (a === 192 && b === 0 && c === 0) return 'an IETF protocol address (192.0.0.0/24)';
  if (a === 198 && (b! & 0xfe) === 18) return 'a benchmarking address (198.18.0.0/15)';
  if (a! >= 224 && a! <= 239) return 'a multicast address (224.0.0.0/4)';
  if (a! >= 240) return 'a reserved or broadcast address (240.0.0.0/4)';
  return null;
}

const startsWith = (bytes: number[], prefix: number[]) => prefix.every((x, i) => bytes[i] === x);
const ZERO_10 = Array<number>(10).fill(0);

function ipv6Refusal(bytes: number[]): string | null {
  const v4 = bytes.slice(12);
  const embedded = (form: string) => {
    const why = ipv4Refusal(v4);
    return why ? `an IPv4-${form} form of ${v4.join('.')}, ${why}` : null;
  };
  if (startsWith(bytes, [...ZERO_10, 0xff, 0xff])) return embedded('mapped');
  // NAT64 (RFC 6052): reaches the IPv4 address it embeds, through the network's translator.
  if (startsWith(bytes, [0x00, 0x64, 0xff, 0x9b, ...ZERO_10.slice(0, 8)])) return embedded('translated (NAT64)');
  if (bytes.every((x) => x === 0)) return 'the unspecified address (::)';
  if (startsWith(bytes, [...ZERO_10, 0, 0, 0, 0, 0]) && bytes[15] === 1) return 'the loopback address (::1)';
  if (startsWith(bytes, [...ZERO_10, 0, 0])) return 'an IPv4-compatible address (::/96, deprecated)';
  if (bytes[0] === 0xff) return 'a multicast address (ff00::/8)';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'a link-local address (fe80::/10)';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0xc0) return 'a site-local address (fec0::/10, deprecated)';
  if ((bytes[0]! & 0xfe) === 0xfc) return 'a unique-local address (fc00::/7)';
  // 6to4 (RFC 3056) embeds the IPv4 address of its relay's other side.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) {
    const why = ipv4Refusal(bytes.slice(2, 6));
    return why ? `a 6to4 form of ${bytes.slice(2, 6).join('.')}, ${why}` : null;
  }
  if (startsWith(bytes, [0x20, 0x01, 0x0d, 0xb8])) return 'a documentation address (2001:db8::/32)';
  if (startsWith(bytes, [0x20, 0x01, 0x00, 0x00])) return 'a Teredo address (2001::/32), which hides the IPv4 one';
  if ((bytes[0]! & 0xe0) !== 0x20) return 'not a global unicast address (2000::/3)';
  return null;
}

/** Why an IP address may not receive webhooks, or null when it may (a public unicast address). */
export function refusalOf(address: string): string | null {
  const family = isIP(address);
  if (family === 4) return ipv4Refusal(ipv4Bytes(address)!);
  if (family === 6) {
    const bytes = ipv6Bytes(address);
    return bytes ? ipv6Refusal(bytes) : 'not an address this server can check';
  }
  return 'not an IP address';
}

/**
 * The URL of an endpoint as it is created or changed: http(s), no credentials, and a literal
 * address host must be public (a name is checked when it is resolved, at each delivery).
 */
export function checkEndpointUrl(raw: string, options: { allowPrivate: boolean }): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefusedError('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UrlRefusedError(`must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password) throw new UrlRefusedError('must not carry a user name or password');
  const host = hostOf(url);
  if (!host) throw new UrlRefusedError('has no host');
  if (isIP(host) && !options.allowPrivate) {
    const why = refusalOf(host);
    if (why) throw new UrlRefusedError(`names ${host}, ${why}; such targets are refused`);
  }
  return url;
}

export type Lookup = (host: string) => Promise<LookupAddress[]>;

const systemLookup: Lookup = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * The address a delivery connects to: the URL checked again, its name resolved, and every address
 * the name has checked (one inside a network refuses the name: which one a connection would get is
 * the resolver's choice). The caller connects to exactly this address, so a second answer of the
 * resolver (DNS rebinding) is never used.
 */
export async function resolveTarget(
  url: URL,
  options: { allowPrivate: boolean; lookup?: Lookup },
): Promise<{ address: string; family: 4 | 6 }> {
  checkEndpointUrl(url.href, options);
  const host = hostOf(url);
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await (options.lookup ?? systemLookup)(host);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const why = refusalOf(address);
      if (why) throw new UrlRefusedError(`${host} resolves to ${address}, ${why}; such targets are refused`);
    }
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
