import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding) without padding. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function hash16(input: string): string {
  return base32(createHash('sha256').update(input).digest()).slice(0, 16);
}

/** The suffix kube-proxy gives KUBE-SVC/SVL/EXT/FW chains: base32(sha256(servicePortName + protocol)). */
export function servicePortHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

/** The suffix of a KUBE-SEP chain: base32(sha256(servicePortName + protocol + "ip:port")). */
export function endpointHash(servicePortName: string, protocol: string, endpoint: string): string {
  return hash16(servicePortName + protocol.toLowerCase() + endpoint);
}

export type KubeChainKind = 'SVC' | 'SVL' | 'EXT' | 'FW' | 'XLB' | 'SEP';

const KUBE_CHAIN_RE = /^KUBE-(SVC|SVL|EXT|FW|XLB|SEP)-([A-Z2-7]{16})$/;

/** `KUBE-SVC-ERIFXISQEP7F7OF4` -> { kind: 'SVC', hash: 'ERIFXISQEP7F7OF4' } */
export function kubeChain(name: string): { kind: KubeChainKind; hash: string } | undefined {
  // KUBE-FW-<16> is the shortest (24 characters); other names fail here cheaply.
  if (name.length < 24 || name.charCodeAt(0) !== 75 /* K */ || !name.startsWith('KUBE-')) return undefined;
  const m = KUBE_CHAIN_RE.exec(name);
  return m ? { kind: m[1] as KubeChainKind, hash: m[2]! } : undefined;
}
