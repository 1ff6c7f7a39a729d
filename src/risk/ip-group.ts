import { isIP } from "node:net";

/**
 * The unit an IP is limited by: an IPv4 address as it is, an IPv6 address by its /64. An IPv6 /64 is
 * one subscriber's network (RFC 6177 assigns at least a /64 per site, and SLAAC picks the lower 64
 * bits at will), so per-address limits would give each attacker 2^64 fresh identities.
 * Returns null for anything that is not an IP.
 */
export function ipGroup(ip: string): string | null {
  const bare = ip.split("%")[0]!; // a zone id (fe80::1%eth0) names an interface, not a host
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return null;
  const hextets = expandIPv6(bare);
  // IPv4-mapped (::ffff:a.b.c.d) is IPv4 in disguise: limit it as that IPv4 address.
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    return [hextets[6]! >> 8, hextets[6]! & 0xff, hextets[7]! >> 8, hextets[7]! & 0xff].join(".");
  }
  return `${hextets.slice(0, 4).map((h) => h.toString(16)).join(":")}/64`;
}

/** Eight 16-bit groups of a valid IPv6 address (handles `::` and a dotted IPv4 tail). */
function expandIPv6(addr: string): number[] {
  let s = addr.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? (s.split("::") as [string, string]) : [s, null];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === null ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((h) => parseInt(h, 16));
}
