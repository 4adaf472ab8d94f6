import { BlockList } from 'node:net';
import { formatIpAddress, parseIpAddress, type IpAddress, type IpFamily } from './ip-address.ts';

/** A network in CIDR form; a bare address is a /32 or /128. */
export interface Cidr {
  readonly family: IpFamily;
  /** The network address in canonical text form. */
  readonly network: string;
  readonly prefixLength: number;
}

/**
 * Parses `203.0.113.0/24`, `2001:db8::/32` or a bare address. Throws an Error whose
 * message says what is wrong (host bits set, prefix too long, not an address...).
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  if (addressText.includes('%')) throw new Error(`${JSON.stringify(text)} has an IPv6 zone; leave it out`);
  const address = parseIpAddress(addressText);
  if (address === undefined) throw new Error(`${JSON.stringify(text)} is not an IPv4 or IPv6 address or CIDR`);
  if (address.family === 'ipv4' && addressText.includes(':')) {
    throw new Error(`${JSON.stringify(text)} is an IPv4-mapped IPv6 address; write it as IPv4`);
  }
  const maxLength = address.family === 'ipv4' ? 32 : 128;
  let prefixLength = maxLength;
  if (prefixText !== undefined) {
    prefixLength = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (!(prefixLength <= maxLength)) {
      throw new Error(`${JSON.stringify(text)} has a bad prefix length (0-${maxLength} for ${address.family === 'ipv4' ? 'IPv4' : 'IPv6'})`);
    }
  }
  const network = maskAddress(address, prefixLength);
  if (!network.bytes.every((byte, index) => byte === address.bytes[index])) {
    throw new Error(
      `${JSON.stringify(text)} has host bits set; did you mean ${formatIpAddress(network)}/${prefixLength}?`,
    );
  }
  return { family: address.family, network: formatIpAddress(network), prefixLength };
}

function maskAddress(address: IpAddress, prefixLength: number): IpAddress {
  const bytes = address.bytes.map((byte, index) => {
    const bitsHere = Math.min(8, Math.max(0, prefixLength - index * 8));
    return byte & ((0xff << (8 - bitsHere)) & 0xff);
  });
  return { family: address.family, bytes };
}

/** A problem with one entry of an allow list; `index` is its position. */
export class AllowListEntryError extends Error {
  readonly index: number;

  constructor(options: { readonly index: number; readonly problem: string }) {
    super(options.problem);
    this.name = 'AllowListEntryError';
    this.index = options.index;
  }
}

/**
 * The client networks a user may log in from. IPv4-mapped IPv6 client addresses
 * (::ffff:a.b.c.d, as dual-stack sockets report IPv4 peers) are matched as IPv4.
 */
export class AddressAllowList {
  readonly cidrs: readonly Cidr[];
  /**
   * One BlockList per family: a single BlockList also matches IPv4 addresses against
   * IPv6 rules (as ::ffff:a.b.c.d), so `::/0` would admit every IPv4 client.
   */
  readonly #lists: Readonly<Record<IpFamily, BlockList>>;

  private constructor(cidrs: readonly Cidr[]) {
    this.cidrs = cidrs;
    this.#lists = { ipv4: new BlockList(), ipv6: new BlockList() };
    for (const cidr of cidrs) this.#lists[cidr.family].addSubnet(cidr.network, cidr.prefixLength, cidr.family);
  }

  /** Throws AllowListEntryError for the first bad entry. An empty list allows nobody. */
  static parse(entries: readonly string[]): AddressAllowList {
    const cidrs = entries.map((entry, index) => {
      try {
        return parseCidr(entry);
      } catch (error) {
        throw new AllowListEntryError({ index, problem: (error as Error).message });
      }
    });
    return new AddressAllowList(cidrs);
  }

  /** False for anything that is not an IP address. */
  allows(clientAddress: string): boolean {
    const address = parseIpAddress(clientAddress);
    if (address === undefined) return false;
    return this.#lists[address.family].check(formatIpAddress(address), address.family);
  }
}
