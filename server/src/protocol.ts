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

export interface ChainItem {
  name: string;
  builtin: boolean;
  /** ACCEPT / DROP for built-in chains. */
  policy: string | null;
  counters: { packets: number; bytes: number } | null;
  /** Declaration, or first rule when undeclared. */
  range: Range;
  ruleCount: number;
  /** How many rules jump or go to it. */
  incoming: number;
  /** The service it belongs to, for KUBE-SVC/SVL/EXT/FW/SEP chains: `kube-system/kube-dns:dns-tcp`. */
  service: string | null;
}

export interface TableItem {
  name: string;
  range: Range;
  chains: ChainItem[];
}

export interface ChainsResult {
  uri: string;
  version: number;
  tables: TableItem[];
}

/** Tables and their chains, for the Chains view; rules come with ChainRulesRequest when a chain is expanded. */
export const ChainsRequest = new RequestType<ServicesParams, ChainsResult | null, void>('netfilterExplorer/chains');

export interface ChainRulesParams {
  textDocument: { uri: string };
  table: string;
  chain: string;
}

export interface RuleItem {
  line: number;
  range: Range;
  /** The rule without `-A CHAIN`: `-d 10.96.0.10/32 -p tcp ... -j KUBE-SVC-...`. */
  text: string;
  comment: string | null;
  target: string | null;
  /** The target is a chain of the same table (expandable), not a verdict or extension. */
  targetIsChain: boolean;
  counters: { packets: number; bytes: number } | null;
  /** The endpoint share this rule gives, in a service chain (`0.5`), else null. */
  share: number | null;
}

export const ChainRulesRequest = new RequestType<ChainRulesParams, RuleItem[] | null, void>('netfilterExplorer/chainRules');

export interface LargeFileParams {
  /** A `file:` URI of a dump too large for VS Code to hand to extensions (over 50 MB). */
  uri: string;
}

export interface LargeFileResult {
  uri: string;
  lines: number;
  megabytes: number;
  services: number;
  problems: number;
}

/**
 * Reads a dump from disk and analyses it, reporting work-done progress; afterwards every
 * request (services, chains, hover...) answers for that URI as for an open document.
 */
export const OpenLargeFileRequest = new RequestType<LargeFileParams, LargeFileResult, void>('netfilterExplorer/openLargeFile');

/** Forgets a dump read from disk. */
export const CloseLargeFileNotification = new NotificationType<LargeFileParams>('netfilterExplorer/closeLargeFile');
