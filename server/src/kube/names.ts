/** A Kubernetes service port as kube-proxy names it: `namespace/name:port` (port '' when unnamed). */
export interface ServicePortName {
  namespace: string;
  name: string;
  port: string;
}

/** [a-z0-9] */
function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** [-a-z0-9.] */
function isLabelChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 45 && c <= 57 && c !== 47);
}

/** [-a-zA-Z0-9] */
function isPortChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45;
}

/**
 * text[0, end) as `namespace/name[:port]`, namespace and name DNS labels (a-z, 0-9, `-`,
 * `.`, beginning and ending with a letter or digit), the port any of a-z, A-Z, 0-9 and `-`.
 * A scan rather than a regular expression: the model reads thousands of these.
 */
function readName(text: string, end: number): ServicePortName | undefined {
  let i = 0;
  if (i >= end || !isAlnum(text.charCodeAt(i))) return undefined;
  while (i < end && isLabelChar(text.charCodeAt(i))) i++;
  if (i >= end || text.charCodeAt(i) !== 47 || !isAlnum(text.charCodeAt(i - 1))) return undefined;
  const nameStart = ++i;
  if (i >= end || !isAlnum(text.charCodeAt(i))) return undefined;
  while (i < end && isLabelChar(text.charCodeAt(i))) i++;
  if (!isAlnum(text.charCodeAt(i - 1))) return undefined;
  const nameEnd = i;
  if (i < end) {
    if (text.charCodeAt(i) !== 58) return undefined;
    for (i++; i < end; i++) if (!isPortChar(text.charCodeAt(i))) return undefined;
  }
  const port = nameEnd + 1 < end ? text.slice(nameEnd + 1, end) : '';
  return { namespace: text.slice(0, nameStart - 1), name: text.slice(nameStart, nameEnd), port };
}

export function parseServicePortName(text: string): ServicePortName | undefined {
  return readName(text, text.length);
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
      const service = readName(comment, comment.length - suffix.length);
      return service ? { service, role } : undefined;
    }
  }
  const arrow = comment.indexOf(' -> ');
  if (arrow !== -1) {
    const service = readName(comment, arrow);
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

/** parseKubeComment, and the key (servicePortKey) of the service port it names. */
export function readKubeComment(comment: string): { comment: KubeComment; key: string } | undefined {
  const parsed = parseKubeComment(comment);
  return parsed ? { comment: parsed, key: servicePortKey(parsed.service) } : undefined;
}
