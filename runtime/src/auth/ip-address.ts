import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

/** An IP address as bytes; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) become IPv4. */
export interface IpAddress {
  readonly family: IpFamily;
  /** 4 or 16 bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Parses an IPv4 or IPv6 literal (an IPv6 zone such as `%eth0` is dropped).
 * Returns undefined for anything else.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 'ipv4', bytes: ipv4Bytes(text) };
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(bare)) return undefined;
  const bytes = ipv6Bytes(bare);
  if (isIpv4Mapped(bytes)) return { family: 'ipv4', bytes: bytes.slice(12) };
  return { family: 'ipv6', bytes };
}

/** Dotted IPv4, or IPv6 with the longest run of zero groups compressed (RFC 5952). */
export function formatIpAddress(address: IpAddress): string {
  if (address.family === 'ipv4') return Array.from(address.bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i] ?? 0) << 8) | (address.bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = (part: number[]): string => part.map((group) => group.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

function ipv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

/** Expects a valid IPv6 literal without a zone (checked with isIPv6). */
function ipv6Bytes(text: string): Uint8Array {
  let hex = text;
  const lastColon = hex.lastIndexOf(':');
  const tail = hex.slice(lastColon + 1);
  if (tail.includes('.')) {
    // Embedded IPv4 tail: rewrite as two hex groups.
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(tail);
    hex = `${hex.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = hex.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const zeros = right === undefined ? 0 : 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...Array<string>(zeros).fill('0'), ...rightGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * What counts as one client for limits and lockouts: an IPv4 address (also written
 * IPv4-mapped), an IPv6 /64 (one host can usually pick any address in its /64), or
 * the text as given when it is not an address.
 */
export function clientKey(clientAddress: string): string {
  const address = parseIpAddress(clientAddress);
  if (address === undefined) return clientAddress;
  if (address.family === 'ipv4') return formatIpAddress(address);
  const prefix = new Uint8Array(16);
  prefix.set(address.bytes.subarray(0, 8));
  return `${formatIpAddress({ family: 'ipv6', bytes: prefix })}/64`;
}
