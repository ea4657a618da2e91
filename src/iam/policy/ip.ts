/**
 * IPv4 / IPv6 CIDR matching for the IpAddress / NotIpAddress condition operators.
 *
 * "The value must be in the standard CIDR format (for example, 203.0.113.0/24 or
 * 2001:DB8:1234:5678::/64). If you specify an IP address without the associated routing prefix,
 * IAM uses the default prefix value of /32" (IAM JSON policy elements: Condition operators). For an
 * IPv6 address without a prefix we use /128. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are
 * compared as IPv4.
 */

import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  readonly v6: boolean;
  readonly network: bigint;
  readonly mask: bigint;
}

export interface ParsedIp {
  readonly v6: boolean;
  readonly value: bigint;
}

function ipv4ToBigInt(ip: string): bigint {
  let n = 0n;
  for (const part of ip.split('.')) n = (n << 8n) | BigInt(Number(part));
  return n;
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // Embedded IPv4 in the low 32 bits: rewrite it as two hex groups.
    const v4 = ipv4ToBigInt(last);
    text = text.slice(0, lastColon + 1) + ((v4 >> 16n) & 0xffffn).toString(16) + ':' + (v4 & 0xffffn).toString(16);
  }
  const dbl = text.indexOf('::');
  let groups: string[];
  if (dbl >= 0) {
    const head = text.slice(0, dbl).split(':').filter((g) => g !== '');
    const tail = text.slice(dbl + 2).split(':').filter((g) => g !== '');
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  } else {
    groups = text.split(':');
  }
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

const ipCache = new Map<string, ParsedIp | undefined>();
const IP_CACHE_LIMIT = 4096;

/** Parse a request IP address (no prefix), cached (bounded). Undefined when not an IP. */
export function parseIp(text: string): ParsedIp | undefined {
  let r = ipCache.get(text);
  if (r === undefined && !ipCache.has(text)) {
    if (ipCache.size >= IP_CACHE_LIMIT) ipCache.clear();
    r = parseIpUncached(text);
    ipCache.set(text, r);
  }
  return r;
}

function parseIpUncached(text: string): ParsedIp | undefined {
  const s = text.trim();
  if (isIPv4(s)) return { v6: false, value: ipv4ToBigInt(s) };
  const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const zoneless = bare.split('%')[0] ?? bare;
  if (isIPv6(zoneless)) {
    const value = ipv6ToBigInt(zoneless);
    if (value >> 32n === 0xffffn) return { v6: false, value: value & 0xffffffffn };
    return { v6: true, value };
  }
  return undefined;
}

/** Parse a policy CIDR (or bare address). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const prefixText = slash < 0 ? undefined : s.slice(slash + 1);
  const ip = parseIp(addr);
  if (!ip) return undefined;
  // An IPv4-mapped IPv6 CIDR prefix is expressed over 128 bits; translate it to IPv4 bits.
  const mappedV6 = !ip.v6 && isIPv6(addr);
  const bits = ip.v6 ? 128 : 32;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (mappedV6) prefix -= 96;
    if (prefix < 0 || prefix > bits) return undefined;
  }
  const all = (1n << BigInt(bits)) - 1n;
  const mask = prefix === 0 ? 0n : (all << BigInt(bits - prefix)) & all;
  return { v6: ip.v6, network: ip.value & mask, mask };
}

export function cidrContains(cidr: Cidr, ip: ParsedIp): boolean {
  return cidr.v6 === ip.v6 && (ip.value & cidr.mask) === cidr.network;
}
