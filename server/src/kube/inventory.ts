/** A pod as an inventory file or kubectl reports it. */
export interface Pod {
  namespace: string;
  name: string;
  node: string | undefined;
  ip: string;
}

export interface PodInventory {
  /** Where the pods came from: a file path or 'kubectl'. */
  source: string;
  byIp: Map<string, Pod[]>;
  podCount: number;
}

/** Inventories larger than this are refused: `kubectl get pods -A -o json` of 10,000 pods is about 100 MB. */
export const MAX_INVENTORY_BYTES = 256 * 1024 * 1024;

export class InventoryError extends Error {}

interface PodJson {
  metadata?: { name?: unknown; namespace?: unknown };
  spec?: { nodeName?: unknown; hostNetwork?: unknown };
  status?: { podIP?: unknown; podIPs?: Array<{ ip?: unknown }> };
}

function add(byIp: Map<string, Pod[]>, pod: Pod): void {
  const list = byIp.get(pod.ip);
  if (list) list.push(pod);
  else byIp.set(pod.ip, [pod]);
}

/**
 * Reads `kubectl get pods -A -o json` (a List or a single Pod) or `kubectl get pods -A -o wide`
 * text into a map from pod IP to pods. Data only: nothing in it is evaluated.
 */
export function parsePodInventory(text: string, source: string): PodInventory {
  if (text.length > MAX_INVENTORY_BYTES) throw new InventoryError(`${source} is larger than ${MAX_INVENTORY_BYTES / 1024 / 1024} MB; export fewer pods (e.g. one namespace).`);
  const byIp = new Map<string, Pod[]>();
  let podCount = 0;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new InventoryError(`${source} is not valid JSON (${error instanceof Error ? error.message : String(error)}). Save it with 'kubectl get pods -A -o json'.`);
    }
    const root = parsed as { kind?: unknown; items?: unknown };
    const items = Array.isArray(root.items) ? (root.items as PodJson[]) : root.kind === 'Pod' ? [parsed as PodJson] : undefined;
    if (!items) throw new InventoryError(`${source} has no 'items': expected the output of 'kubectl get pods -A -o json'.`);
    for (const item of items) {
      const name = item.metadata?.name;
      const namespace = item.metadata?.namespace;
      if (typeof name !== 'string' || typeof namespace !== 'string') continue;
      podCount++;
      // Pods on the host network share the node's IP; endpoints there are not told apart by IP.
      const node = typeof item.spec?.nodeName === 'string' ? item.spec.nodeName : undefined;
      const ips = new Set<string>();
      if (typeof item.status?.podIP === 'string') ips.add(item.status.podIP);
      for (const entry of item.status?.podIPs ?? []) if (typeof entry.ip === 'string') ips.add(entry.ip);
      for (const ip of ips) add(byIp, { namespace, name, node, ip });
    }
    return { source, byIp, podCount };
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.trim().split(/\s{2,}|\t/) ?? [];
  const column = (name: string) => header.indexOf(name);
  const ipColumn = column('IP');
  const nameColumn = column('NAME');
  if (ipColumn === -1 || nameColumn === -1) {
    throw new InventoryError(`${source} is neither JSON nor a table with NAME and IP columns. Save it with 'kubectl get pods -A -o json' or '-o wide'.`);
  }
  // `-o wide` pads columns with spaces; the header's word positions give each column's start.
  const starts: number[] = [];
  let from = 0;
  for (const h of header) {
    const at = lines[0]!.indexOf(h, from);
    starts.push(at);
    from = at + h.length;
  }
  for (const line of lines.slice(1)) {
    const cells = starts.map((start, i) => line.slice(start, starts[i + 1] ?? line.length).trim());
    const ip = cells[ipColumn];
    const name = cells[nameColumn];
    if (!name || !ip || ip === '<none>') continue;
    podCount++;
    const namespaceColumn = column('NAMESPACE');
    const nodeColumn = column('NODE');
    add(byIp, { namespace: namespaceColumn === -1 ? 'default' : cells[namespaceColumn]!, name, node: nodeColumn === -1 ? undefined : cells[nodeColumn], ip });
  }
  return { source, byIp, podCount };
}

/** The pod an endpoint IP belongs to, if the inventory knows exactly one. */
export function podFor(inventory: PodInventory | undefined, ip: string): Pod | undefined {
  const pods = inventory?.byIp.get(ip);
  return pods?.length === 1 ? pods[0] : undefined;
}
