import { ProbeError } from './probe-error.ts';

/**
 * The address in a 227 reply (RFC 959: h1,h2,h3,h4,p1,p2 anywhere in the text, the
 * parentheses are customary, not required).
 */
export function parsePasvReply(text: string): { host: string; port: number } {
  const match = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(text);
  const numbers = match?.slice(1).map(Number);
  if (!numbers || numbers.some((n) => n > 255)) throw new ProbeError('protocol', `PASV reply without an address: ${JSON.stringify(text)}`);
  const port = numbers[4]! * 256 + numbers[5]!;
  if (port === 0) throw new ProbeError('protocol', `PASV reply announces port 0: ${JSON.stringify(text)}`);
  return { host: numbers.slice(0, 4).join('.'), port };
}

/** The port in a 229 reply (RFC 2428: "(|||port|)", any delimiter). */
export function parseEpsvReply(text: string): number {
  const match = /\((.)\1\1(\d{1,5})\1\)/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new ProbeError('protocol', `EPSV reply without a port: ${JSON.stringify(text)}`);
  return port;
}
