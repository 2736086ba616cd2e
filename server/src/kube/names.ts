/** A Kubernetes service port as kube-proxy names it: `namespace/name:port` (port '' when unnamed). */
export interface ServicePortName {
  namespace: string;
  name: string;
  port: string;
}

const NAME_RE = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::([-a-zA-Z0-9]*))?$/;

export function parseServicePortName(text: string): ServicePortName | undefined {
  const m = NAME_RE.exec(text);
  if (!m) return undefined;
  return { namespace: m[1]!, name: m[3]!, port: m[5] ?? '' };
}

/** The name kube-proxy hashes: `ns/svc:port`, or `ns/svc` for an unnamed port. */
export function servicePortKey(name: ServicePortName): string {
  return name.port === '' ? `${name.namespace}/${name.name}` : `${name.namespace}/${name.name}:${name.port}`;
}

/** What a kube-proxy rule comment says about a service port. */
export type CommentRole =
  | 'cluster-ip'
  | 'external-ip'
  | 'loadbalancer-ip'
  | 'no-endpoints'
  | 'no-local-endpoints'
  | 'health-check'
  | 'masquerade-external'
  | 'pod-traffic-external'
  | 'masquerade-local'
  | 'route-local'
  | 'firewall-drop'
  | 'firewall-not-accepted'
  | 'endpoint'
  | 'plain';

export interface KubeComment {
  service: ServicePortName;
  role: CommentRole;
  /** `10.180.0.1:80` in `"ns1/svc1:p80 -> 10.180.0.1:80"`. */
  endpoint?: string;
}

const SUFFIXES: ReadonlyArray<[string, CommentRole]> = [
  [' cluster IP', 'cluster-ip'],
  [' external IP', 'external-ip'],
  [' loadbalancer IP', 'loadbalancer-ip'],
  [' has no endpoints', 'no-endpoints'],
  [' has no local endpoints', 'no-local-endpoints'],
  [' health check node port', 'health-check'],
];

const PREFIXED: ReadonlyArray<[RegExp, CommentRole]> = [
  [/^masquerade traffic for (\S+) external destinations$/, 'masquerade-external'],
  [/^pod traffic for (\S+) external destinations$/, 'pod-traffic-external'],
  [/^masquerade LOCAL traffic for (\S+) external destinations$/, 'masquerade-local'],
  [/^route LOCAL traffic for (\S+) external destinations$/, 'route-local'],
  [/^other traffic to (\S+) will be dropped by KUBE-PROXY-FIREWALL$/, 'firewall-drop'],
  [/^(\S+) traffic not accepted by KUBE-FW-\S+$/, 'firewall-not-accepted'],
];

/** Reads the comments kube-proxy writes (see kube-proxy's proxier.go); undefined for any other comment. */
export function parseKubeComment(comment: string): KubeComment | undefined {
  for (const [suffix, role] of SUFFIXES) {
    if (comment.endsWith(suffix)) {
      const service = parseServicePortName(comment.slice(0, -suffix.length));
      return service ? { service, role } : undefined;
    }
  }
  const arrow = comment.indexOf(' -> ');
  if (arrow !== -1) {
    const service = parseServicePortName(comment.slice(0, arrow));
    return service ? { service, role: 'endpoint', endpoint: comment.slice(arrow + 4) } : undefined;
  }
  for (const [pattern, role] of PREFIXED) {
    const m = pattern.exec(comment);
    if (m) {
      const service = parseServicePortName(m[1]!);
      return service ? { service, role } : undefined;
    }
  }
  const service = parseServicePortName(comment);
  return service ? { service, role: 'plain' } : undefined;
}
