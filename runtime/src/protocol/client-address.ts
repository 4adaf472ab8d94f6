/** '::ffff:192.0.2.1' (IPv4-mapped, as dual-stack sockets report it) → '192.0.2.1'. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
