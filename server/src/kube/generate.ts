// Realistic kube-proxy (iptables mode) dumps in iptables-save form, for the benchmark, for
// tests of large files and for the small analysis the server keeps (shapes.ts): real
// chain-name hashing, kernel-printed probabilities, and a mix of ClusterIP, NodePort,
// LoadBalancer with source ranges, externalTrafficPolicy Local, session affinity and services
// without endpoints. Above 1,000 endpoints the SVC->SEP and SEP rules carry no comments, as
// kube-proxy writes them for large clusters.
import { endpointHash, servicePortHash } from './hashes';

export interface GeneratedDump {
  text: string;
  lines: number;
  services: number;
  endpoints: number;
}

const SCALE = 2 ** 31;

/** `--probability` as iptables-save prints what the kernel stores for kube-proxy's 1/(n-i). */
function probabilityText(index: number, count: number): string {
  return (Math.round(Number((1 / (count - index)).toFixed(10)) * SCALE) / SCALE).toFixed(11);
}

function ip(base: number, n: number): string {
  return `${base >>> 24}.${(base >>> 16) & 255}.${((base >>> 8) & 255) + ((n >>> 8) & 255)}.${n & 255}`;
}

type Kind = 'clusterIP' | 'nodePort' | 'loadBalancer' | 'local' | 'affinity' | 'empty';

/** The mix of service types, by service index: mostly ClusterIP, like real clusters. */
function kindOf(i: number): Kind {
  const r = i % 20;
  if (r === 0) return 'empty';
  if (r === 1 || r === 2) return 'nodePort';
  if (r === 3) return 'loadBalancer';
  if (r === 4) return 'local';
  if (r === 5) return 'affinity';
  return 'clusterIP';
}

export function generateDump(serviceCount: number, endpointsPerService: number): GeneratedDump {
  const comments = serviceCount * endpointsPerService <= 1000;
  const natChains = new Map<string, string[]>();
  const filterChains = new Map<string, string[]>([['KUBE-SERVICES', []], ['KUBE-EXTERNAL-SERVICES', []], ['KUBE-NODEPORTS', []], ['KUBE-PROXY-FIREWALL', []], ['KUBE-FORWARD', []]]);
  const nat = (chain: string) => {
    let rules = natChains.get(chain);
    if (!rules) natChains.set(chain, (rules = []));
    return rules;
  };
  for (const chain of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) nat(chain);
  nat('KUBE-MARK-MASQ').push('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
  nat('KUBE-POSTROUTING').push(
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  );
  const c = (text: string) => (comments ? ` -m comment --comment ${text.includes(' ') ? `"${text}"` : text}` : '');
  const services: string[] = [];
  let endpointTotal = 0;
  for (let s = 0; s < serviceCount; s++) {
    const kind = kindOf(s);
    const ns = `team-${s % 97}`;
    const svcPort = `${ns}/app-${s}:http`;
    services.push(svcPort);
    const hash = servicePortHash(svcPort, 'tcp');
    const clusterIP = ip(0x0a600000, s + 10);
    const nodePort = 30000 + (s % 2768);
    const svcChain = `KUBE-SVC-${hash}`;
    if (kind === 'empty') {
      filterChains.get('KUBE-SERVICES')!.push(`-A KUBE-SERVICES -d ${clusterIP}/32 -p tcp -m comment --comment "${svcPort} has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`);
      continue;
    }
    nat('KUBE-SERVICES').push(`-A KUBE-SERVICES -d ${clusterIP}/32 -p tcp -m comment --comment "${svcPort} cluster IP" -m tcp --dport 80 -j ${svcChain}`);
    const svc = nat(svcChain);
    svc.push(`-A ${svcChain} ! -s 10.244.0.0/16 -d ${clusterIP}/32 -p tcp -m comment --comment "${svcPort} cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`);
    const seps: Array<{ chain: string; address: string }> = [];
    for (let e = 0; e < endpointsPerService; e++) {
      const address = `${ip(0x0af40000, (s * endpointsPerService + e) % 65000 + 2)}:8080`;
      seps.push({ chain: `KUBE-SEP-${endpointHash(svcPort, 'tcp', address)}`, address });
    }
    endpointTotal += seps.length;
    if (kind === 'affinity') {
      for (const sep of seps) svc.push(`-A ${svcChain}${c(`${svcPort} -> ${sep.address}`)} -m recent --rcheck --seconds 10800 --reap --name ${sep.chain} --mask 255.255.255.255 --rsource -j ${sep.chain}`);
    }
    seps.forEach((sep, e) => {
      const statistic = e < seps.length - 1 ? ` -m statistic --mode random --probability ${probabilityText(e, seps.length)}` : '';
      svc.push(`-A ${svcChain}${c(`${svcPort} -> ${sep.address}`)}${statistic} -j ${sep.chain}`);
      const [podIp] = sep.address.split(':');
      const sepRules = nat(sep.chain);
      sepRules.push(`-A ${sep.chain} -s ${podIp}/32${c(svcPort)} -j KUBE-MARK-MASQ`);
      const recent = kind === 'affinity' ? ` -m recent --set --name ${sep.chain} --mask 255.255.255.255 --rsource` : '';
      sepRules.push(`-A ${sep.chain} -p tcp${c(svcPort)}${recent} -m tcp -j DNAT --to-destination ${sep.address}`);
    });
    if (kind === 'nodePort' || kind === 'loadBalancer' || kind === 'local') {
      const extChain = `KUBE-EXT-${hash}`;
      nat('KUBE-NODEPORTS').push(`-A KUBE-NODEPORTS -p tcp -m comment --comment ${svcPort} -m tcp --dport ${nodePort} -j ${extChain}`);
      const ext = nat(extChain);
      if (kind === 'local') {
        // externalTrafficPolicy Local: pods and the node reach every endpoint, outside clients the local ones.
        const svlChain = `KUBE-SVL-${hash}`;
        ext.push(
          `-A ${extChain} -s 10.244.0.0/16 -m comment --comment "pod traffic for ${svcPort} external destinations" -j ${svcChain}`,
          `-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${svcPort} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
          `-A ${extChain} -m comment --comment "route LOCAL traffic for ${svcPort} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`,
          `-A ${extChain} -j ${svlChain}`,
        );
        const local = seps.slice(0, Math.max(1, Math.floor(seps.length / 3)));
        const svl = nat(svlChain);
        local.forEach((sep, e) => {
          const statistic = e < local.length - 1 ? ` -m statistic --mode random --probability ${probabilityText(e, local.length)}` : '';
          svl.push(`-A ${svlChain}${c(`${svcPort} -> ${sep.address}`)}${statistic} -j ${sep.chain}`);
        });
      } else {
        ext.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${svcPort} external destinations" -j KUBE-MARK-MASQ`, `-A ${extChain} -j ${svcChain}`);
      }
      if (kind === 'loadBalancer') {
        const fwChain = `KUBE-FW-${hash}`;
        const lbIP = ip(0xcb007100, s % 250 + 1);
        nat('KUBE-SERVICES').push(`-A KUBE-SERVICES -d ${lbIP}/32 -p tcp -m comment --comment "${svcPort} loadbalancer IP" -m tcp --dport 80 -j ${fwChain}`);
        nat(fwChain).push(
          `-A ${fwChain} -s 198.51.100.0/24 -m comment --comment "${svcPort} loadbalancer IP" -j ${extChain}`,
          `-A ${fwChain} -m comment --comment "other traffic to ${svcPort} will be dropped by KUBE-PROXY-FIREWALL"`,
        );
        filterChains.get('KUBE-PROXY-FIREWALL')!.push(`-A KUBE-PROXY-FIREWALL -d ${lbIP}/32 -p tcp -m comment --comment "${svcPort} traffic not accepted by ${fwChain}" -m tcp --dport 80 -j DROP`);
      }
    }
  }
  nat('KUBE-SERVICES').push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  filterChains.get('KUBE-FORWARD')!.push(
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );

  const out: string[] = [];
  writeTable(out, 'filter', ['INPUT', 'FORWARD', 'OUTPUT'], filterChains, [
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  ]);
  writeTable(out, 'nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'], natChains, [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  ]);
  const text = `${out.join('\n')}\n`;
  return { text, lines: out.length, services: serviceCount, endpoints: endpointTotal };
}

const DATE = 'Tue Nov 24 04:32:48 2026';

/** One table as iptables-nft-save writes it: its built-in chains, the others by name, the built-in chains' rules, then the others'. */
function writeTable(out: string[], name: string, builtins: readonly string[], chains: ReadonlyMap<string, string[]>, builtinRules: readonly string[]): void {
  out.push(`# Generated by iptables-nft-save v1.8.9 (nf_tables) on ${DATE}`, `*${name}`);
  for (const builtin of builtins) out.push(`:${builtin} ACCEPT [0:0]`);
  const names = [...chains.keys()].sort();
  for (const chain of names) out.push(`:${chain} - [0:0]`);
  out.push(...builtinRules);
  for (const chain of names) out.push(...chains.get(chain)!);
  out.push('COMMIT', `# Completed on ${DATE}`);
}
