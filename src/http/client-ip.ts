import { BlockList, isIP } from "node:net";

/**
 * The client's address. The socket's peer is the truth; `X-Forwarded-For` is believed only when that
 * peer is a trusted proxy (TRUST_PROXY), and then the right-most address that is not itself a trusted
 * proxy is the client (everything left of it could be forged by the client).
 */
export class ClientIpResolver {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(cidrs: string[]) {
    for (const c of cidrs) {
      const [addr, bits] = c.split("/") as [string, string | undefined];
      const family = isIP(addr) === 6 ? "ipv6" : "ipv4";
      const prefix = bits === undefined ? (family === "ipv6" ? 128 : 32) : Number(bits);
      this.trusted.addSubnet(addr, prefix, family);
    }
    this.any = cidrs.length > 0;
  }

  resolve(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string | null {
    const peer = normalize(socketAddress);
    if (!peer) return null;
    if (!this.any || !this.isTrusted(peer) || !forwardedFor) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
      .split(",")
      .map((s) => normalize(s.trim()))
      .filter((s): s is string => !!s);
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!this.isTrusted(hops[i]!)) return hops[i]!;
    }
    return hops[0] ?? peer;
  }

  private isTrusted(ip: string): boolean {
    const family = isIP(ip);
    if (!family) return false;
    return this.trusted.check(ip, family === 6 ? "ipv6" : "ipv4");
  }
}

/** Strips IPv4-mapped IPv6 (::ffff:1.2.3.4) and rejects anything that is not an IP. */
export function normalize(ip: string | undefined): string | null {
  if (!ip) return null;
  const v = ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  return isIP(v) ? v : null;
}
