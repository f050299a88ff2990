import ipaddr from 'ipaddr.js';

/**
 * Whether a webhook must not reach this IP address (v4, v6, or v4-mapped v6) unless private targets are allowed:
 * anything that is not a global unicast address. ipaddr.js classifies the ranges (loopback, private, link-local,
 * carrier-grade NAT and cloud metadata at 100.64.0.0/10, benchmarking, reserved, multicast, broadcast ...); the
 * v6 forms that embed a v4 address (v4-mapped and v4-compatible, NAT64, 6to4, Teredo) are refused whole, as
 * they could lead anywhere. Text that is not an address is not private (it is a name, checked once resolved).
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() !== 'unicast';
  const v6 = parsed as ipaddr.IPv6;
  // ::/8 (IETF-reserved) holds the v4-compatible form ::a.b.c.d, which ipaddr.js may call unicast.
  return v6.range() !== 'unicast' || v6.parts[0]! >> 8 === 0;
}

/**
 * A URL hostname (as `new URL().hostname` gives it: IPv6 in brackets, numeric IPv4 forms normalised)
 * that names this host or a non-public address literally. Names that merely resolve there are caught at
 * delivery time, on the addresses actually connected to.
 */
export function isPrivateHostname(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host);
}
