import { isIPv4, isIPv6 } from 'node:net';

/**
 * What an IP address reaches. Only `public` addresses are a provider: the
 * others are this host, the operator's own networks, or the cloud metadata
 * service (169.254.169.254, fd00:ec2::254), where a provider URL, a discovery
 * document or a DNS answer must never be able to point a secret.
 */
export type AddressKind =
  'public' | 'loopback' | 'private' | 'link_local' | 'unspecified' | 'multicast' | 'reserved';

type Range4 = readonly [network: string, bits: number, kind: Exclude<AddressKind, 'public'>];

/** IANA IPv4 special-purpose registry (RFC 6890 and successors): none of these is a provider. */
const IPV4_RANGES: readonly Range4[] = [
  ['0.0.0.0', 8, 'unspecified'], // RFC 1122 "this network"
  ['10.0.0.0', 8, 'private'], // RFC 1918
  ['100.64.0.0', 10, 'private'], // RFC 6598 carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link_local'], // RFC 3927, and the cloud metadata address
  ['172.16.0.0', 12, 'private'], // RFC 1918
  ['192.0.0.0', 24, 'reserved'], // RFC 6890 protocol assignments
  ['192.0.2.0', 24, 'reserved'], // RFC 5737 documentation
  ['192.88.99.0', 24, 'reserved'], // RFC 7526 deprecated 6to4 relays
  ['192.168.0.0', 16, 'private'], // RFC 1918
  ['198.18.0.0', 15, 'reserved'], // RFC 2544 benchmarking
  ['198.51.100.0', 24, 'reserved'], // RFC 5737
  ['203.0.113.0', 24, 'reserved'], // RFC 5737
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // RFC 1112, with 255.255.255.255 broadcast
];

/** The kind of an IPv4 or IPv6 address (IPv6 zone ids ignored); `reserved` for a string that is neither. */
export function addressKind(address: string): AddressKind {
  if (isIPv4(address)) return ipv4Kind(ipv4ToNumber(address));
  const bare = address.replace(/%.*$/, '');
  if (isIPv6(bare)) return ipv6Kind(ipv6ToGroups(bare));
  return 'reserved';
}

/**
 * Why a provider call may not connect to `address`, or undefined when it
 * may: public addresses always, loopback only when insecure loopback
 * providers are allowed (tests and the demo sandbox).
 */
export function addressProblem(
  address: string,
  allowLoopback: boolean,
): Exclude<AddressKind, 'public'> | undefined {
  const kind = addressKind(address);
  if (kind === 'public' || (kind === 'loopback' && allowLoopback)) return undefined;
  return kind;
}

function ipv4Kind(value: number): AddressKind {
  for (const [network, bits, kind] of IPV4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === ipv4ToNumber(network)) return kind;
  }
  return 'public';
}

function ipv6Kind(g: readonly number[]): AddressKind {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const embedded = ((g6 << 16) | g7) >>> 0;
  const zeroTo = (n: number) => g.slice(0, n).every((part) => part === 0);
  if (zeroTo(8)) return 'unspecified';
  if (zeroTo(7) && g7 === 1) return 'loopback';
  // ::ffff:a.b.c.d (RFC 4291 IPv4-mapped) reaches the IPv4 address itself;
  // ::ffff:0:a.b.c.d (RFC 2765 IPv4-translated) likewise.
  if (zeroTo(5) && g5 === 0xffff) return ipv4Kind(embedded);
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return ipv4Kind(embedded);
  // ::a.b.c.d, the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1).
  if (zeroTo(6)) return 'reserved';
  // 64:ff9b::/96 (RFC 6052 NAT64): the translator connects to the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return ipv4Kind(embedded);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private'; // RFC 8215 local-use NAT64
  // 2002::/16 (RFC 3056 6to4) carries an IPv4 address in its next 32 bits.
  if (g0 === 0x2002) return ipv4Kind(((g1 << 16) | g2) >>> 0);
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'; // RFC 6666 discard
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved'; // RFC 3849 documentation
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // RFC 4193 unique local (incl. fd00:ec2::254)
  if ((g0 & 0xffc0) === 0xfe80) return 'link_local'; // RFC 4291
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // RFC 3879 deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => ((value << 8) | Number(octet)) >>> 0, 0);
}

/** Eight 16-bit groups of a valid IPv6 address (with `::` and a trailing dotted IPv4 expanded). */
function ipv6ToGroups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4ToNumber(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
