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

/** A service port as lists show it (the Services view's rows, Go to Service…), without its entries' endpoints. */
export interface ServiceSummary {
  id: string;
  namespace: string;
  name: string;
  port: string;
  protocol: string;
  /** `kube-system/kube-dns:dns-tcp` */
  title: string;
  nameSource: 'comment' | 'inferred';
  hashConfirmed: boolean;
  /** Endpoint count; 0 when the service rejects its traffic. */
  endpointCount: number;
  skewed: boolean;
  /** What its icon says, most urgent first: no endpoints, skewed probabilities, external entries reach only local endpoints. */
  state: 'noEndpoints' | 'skewed' | 'localOnly' | 'ok';
  /** Its entries' titles, `cluster IP 10.96.0.10:53/TCP`, in the order ServiceRequest gives the entries. */
  entryTitles: string[];
  /** Where the service is best shown: its first chain, else the rule of its first entry. */
  range: Range | null;
}

/** A service port with everything the Services view shows under it (ServiceRequest). */
export interface ServiceItem extends ServiceSummary {
  chains: ChainRef[];
  entries: EntryItem[];
}

export interface ServicesParams {
  textDocument: { uri: string };
}

export interface ServicesTreeParams extends ServicesParams {
  /**
   * Keep the services whose namespace, name, port, protocol, entry addresses, endpoints, pods,
   * nodes or chains contain every word (case-insensitive); empty or absent: all.
   */
  filter?: string;
}

export interface NamespaceItem {
  namespace: string;
  /** Service ports in it (that match the filter). */
  services: number;
}

/** The top of the Services view: namespaces with counts; their services come with ServiceListRequest. */
export interface ServicesResult {
  uri: string;
  version: number;
  /** Service ports and endpoints in the dump, whatever the filter. */
  total: number;
  endpointTotal: number;
  /** Namespaces in the dump, whatever the filter. */
  namespaceTotal: number;
  /** The filter the answer is for ('' for none), and how many service ports it keeps. */
  filter: string;
  matched: number;
  /** Namespaces with services that match, in display order. */
  namespaces: NamespaceItem[];
  /** Where pod names came from, when they did. */
  podSource: string | null;
}

/** The namespaces of a document's services (the Services view's top level) and their counts. */
export const ServicesRequest = new RequestType<ServicesTreeParams, ServicesResult | null, void>('netfilterExplorer/services');

export interface ServiceListParams extends ServicesTreeParams {
  /** One namespace's services; absent: every namespace's. */
  namespace?: string;
  /** A page of the list: from `offset` (default 0), at most `limit` (default all). */
  offset?: number;
  limit?: number;
}

export interface ServiceListResult {
  uri: string;
  version: number;
  /** Services in the namespace (or the dump) that match the filter; `services` holds those from `offset`. */
  total: number;
  offset: number;
  services: ServiceSummary[];
}

/** Service ports in display order (namespace, then title), of one namespace or all, filtered, paged. */
export const ServiceListRequest = new RequestType<ServiceListParams, ServiceListResult | null, void>('netfilterExplorer/serviceList');

export interface ServiceParams extends ServicesParams {
  /** ServiceSummary.id */
  id: string;
}

/** One service port with its entries, endpoints (and pods) and chains; null when the dump has no such service. */
export const ServiceRequest = new RequestType<ServiceParams, ServiceItem | null, void>('netfilterExplorer/service');

export interface ServiceAtParams extends ServicesParams {
  line: number;
  /** The Services view's filter, to place the service in the filtered list (`index`). */
  filter?: string;
}

export interface ServiceAtResult {
  service: ServiceItem;
  /** The entry (index into service.entries) the line belongs to, when it does. */
  entry: number | null;
  /** The endpoint: in the entry's own endpoints (`condition` null) or under one of its conditions. */
  endpoint: { condition: number | null; index: number } | null;
  /** What the line is: the rule of an entry or a condition, or a line of (or declaring) a chain of the service. */
  via: 'entry rule' | 'condition rule' | 'endpoint chain' | 'entry chain' | 'service chain';
  /** Place of the service among its namespace's services that match `filter`; null when the filter hides it. */
  index: number | null;
}

/** The service (entry, endpoint) a line of the dump belongs to, for Reveal in Services View and Copy Endpoint Table. */
export const ServiceAtRequest = new RequestType<ServiceAtParams, ServiceAtResult | null, void>('netfilterExplorer/serviceAt');

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
  /** The endpoint a KUBE-SEP chain leads to, with its pod when the inventory knows it. */
  endpoint?: { ip: string; port: number | null; pod?: string };
}

/** A group of a long table's chains, by name prefix (`KUBE-SEP-*`), or a page of one (`KUBE-SEP-* (3 of 200)`). */
export interface ChainGroupItem {
  label: string;
  /** For a page: its first and last name without the prefix, `2CL4… – 4FXA…`. */
  detail?: string;
  count: number;
  /** Names the group for ChainGroupRequest. */
  key: string;
}

/** A table's child in the Chains view: a chain, or a group of chains asked when it is expanded. */
export type ChainEntry = { chain: ChainItem } | { group: ChainGroupItem };

export interface TableItem {
  name: string;
  range: Range;
  chainCount: number;
  /**
   * Its chains when it has at most 500; else chains grouped by name prefix, in pages of 500
   * (chains alone under their prefix stay as they are).
   */
  entries: ChainEntry[];
}

export interface ChainsResult {
  uri: string;
  version: number;
  tables: TableItem[];
}

/** Tables and their chains (or groups of chains), for the Chains view; rules come with ChainRulesRequest when a chain is expanded. */
export const ChainsRequest = new RequestType<ServicesParams, ChainsResult | null, void>('netfilterExplorer/chains');

export interface ChainGroupParams extends ServicesParams {
  table: string;
  /** ChainGroupItem.key */
  key: string;
}

/** The chains of a group of the Chains view; null when the table has no such group (the dump changed). */
export const ChainGroupRequest = new RequestType<ChainGroupParams, ChainItem[] | null, void>('netfilterExplorer/chainGroup');

export interface FindChainsParams extends ServicesParams {
  /** Words that the name, table or service of each chain contains (case-insensitive); empty: all. */
  query: string;
  /** At most this many chains (default 1,000). */
  limit?: number;
  /** Only the chain of that name (and table): for Go to Chain with a name. */
  exact?: { chain: string; table?: string };
}

export interface FindChainsResult {
  /** How many chains match; `chains` holds the first `limit` of them, in document order of tables. */
  total: number;
  chains: Array<ChainItem & { table: string }>;
}

/** Chains matching a query, for Go to Chain…: asked as the user types. */
export const FindChainsRequest = new RequestType<FindChainsParams, FindChainsResult | null, void>('netfilterExplorer/findChains');

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
  /** That chain, when it is one: its rule count, service and endpoint (for a KUBE-SEP chain). */
  targetChain?: Pick<ChainItem, 'ruleCount' | 'service' | 'endpoint'>;
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
