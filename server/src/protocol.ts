// Messages beyond LSP, declared once for the client and the server.
import { NotificationType, type Range, RequestType } from 'vscode-languageserver-protocol';

export interface ChainRef {
  name: string;
  /** The chain's declaration (or first use) in the document. */
  range: Range;
}

export interface EndpointItem {
  ip: string;
  port: number | null;
  /** Share of the entry's new connections, 0..1. */
  share: number;
  local: boolean;
  chain: ChainRef;
  pod?: { namespace: string; name: string; node?: string };
}

export interface SplitItem {
  endpoints: EndpointItem[];
  /** REJECT, DROP, fallthrough, unknown, ... with their shares. */
  outcomes: Record<string, number>;
}

export interface EntryItem extends SplitItem {
  kind: 'clusterIP' | 'nodePort' | 'externalIP' | 'loadBalancerIP';
  address: string | null;
  port: number | null;
  /** `cluster IP 10.96.0.10:53/TCP` */
  title: string;
  /** The KUBE-SERVICES / KUBE-NODEPORTS / filter rule that matches this entry. */
  ruleRange: Range;
  chain?: ChainRef;
  sourceRanges: string[];
  sessionAffinitySeconds: number | null;
  conditions: Array<SplitItem & { condition: string; ruleRange: Range }>;
}

export interface ServiceItem {
  id: string;
  namespace: string;
  name: string;
  port: string;
  protocol: string;
  /** `kube-system/kube-dns:dns-tcp` */
  title: string;
  nameSource: 'comment' | 'inferred';
  hashConfirmed: boolean;
  chains: ChainRef[];
  entries: EntryItem[];
  /** Endpoint count; 0 when the service rejects its traffic. */
  endpointCount: number;
  skewed: boolean;
}

export interface ServicesParams {
  textDocument: { uri: string };
}

export interface ServicesResult {
  uri: string;
  version: number;
  services: ServiceItem[];
  /** Where pod names came from, when they did. */
  podSource: string | null;
}

/** The service model of a document, for the Services view and the service commands. */
export const ServicesRequest = new RequestType<ServicesParams, ServicesResult | null, void>('netfilterExplorer/services');

export interface PodInventoryParams {
  /** File path or `kubectl`; null clears the inventory. */
  source: string | null;
  text?: string;
}

/** Pods to name endpoints with: the text of `kubectl get pods -A -o json` or `-o wide`. */
export const PodInventoryNotification = new NotificationType<PodInventoryParams>('netfilterExplorer/podInventory');
