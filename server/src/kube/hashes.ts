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

/** Whether character code c is in kube-proxy's hash alphabet, [A-Z2-7]. */
function isHashChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 50 && c <= 55);
}

/** The kind of `KUBE-<KIND>-<16 hash characters>` (KUBE-FW-<16> is 24 characters, the others 25); undefined for any other name. */
export function kubeChainKind(name: string): KubeChainKind | undefined {
  const length = name.length;
  if ((length !== 24 && length !== 25) || name.charCodeAt(0) !== 75 /* K */ || !name.startsWith('KUBE-') || name.charCodeAt(length - 17) !== 45 /* - */) return undefined;
  for (let i = length - 16; i < length; i++) if (!isHashChar(name.charCodeAt(i))) return undefined;
  const a = name.charCodeAt(5);
  const b = name.charCodeAt(6);
  if (length === 24) return a === 70 /* F */ && b === 87 /* W */ ? 'FW' : undefined;
  const c = name.charCodeAt(7);
  // SVC SVL SEP EXT XLB
  if (a === 83 /* S */) {
    if (b === 86 /* V */) return c === 67 /* C */ ? 'SVC' : c === 76 /* L */ ? 'SVL' : undefined;
    return b === 69 /* E */ && c === 80 /* P */ ? 'SEP' : undefined;
  }
  if (a === 69 /* E */) return b === 88 /* X */ && c === 84 /* T */ ? 'EXT' : undefined;
  if (a === 88 /* X */) return b === 76 /* L */ && c === 66 /* B */ ? 'XLB' : undefined;
  return undefined;
}

/** `KUBE-SVC-ERIFXISQEP7F7OF4` -> { kind: 'SVC', hash: 'ERIFXISQEP7F7OF4' } */
export function kubeChain(name: string): { kind: KubeChainKind; hash: string } | undefined {
  const kind = kubeChainKind(name);
  return kind === undefined ? undefined : { kind, hash: name.slice(name.length - 16) };
}
