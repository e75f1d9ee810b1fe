/**
 * @module core/ir/model
 * The mesh model (IR): the one normalized, typed shape every outside language compiles into and every
 * engine works on. Front ends (Istio, Consul, weft YAML, Kubernetes, files) produce it; the proxy,
 * policy engine, router, CA and xDS translator consume it. Types only; no behaviour lives here.
 *
 * Conventions: names are `namespace/name`; durations are milliseconds; every object may carry
 * `origin` (file, line, kind/name of the source object) so errors and loss reports can point back.
 */

/** Where an IR object came from. */
export interface Origin {
  /** `istio` | `consul` | `weft` | `kubernetes` | `file` | ... */
  system: string;
  /** Outside kind and name, e.g. `AuthorizationPolicy/foo/httpbin`. */
  object?: string;
  file?: string;
  line?: number;
}

// ---------------------------------------------------------------- identity

/** A parsed SPIFFE ID. `path` starts with `/`, or is empty for a bare trust-domain ID (`spiffe://td`). */
export interface SpiffeId {
  trustDomain: string;
  path: string;
  /** The canonical URI form, `spiffe://<trustDomain><path>`. */
  uri: string;
}

/** A workload identity in the Istio/weft form: `spiffe://<td>/ns/<ns>/sa/<sa>`. */
export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** A Consul service identity: `spiffe://<cluster>.consul[/ap/<partition>]/ns/<ns>/dc/<dc>/svc/<svc>`. */
export interface ConsulIdentity {
  trustDomain: string;
  partition?: string;
  namespace: string;
  datacenter: string;
  service: string;
}

// ---------------------------------------------------------------- services and endpoints

export type Protocol = "http" | "http2" | "grpc" | "tcp" | "tls" | "websocket";

export interface ServicePort {
  name?: string;
  port: number;
  protocol: Protocol;
  /** Port on the workload when it differs from the service port. */
  targetPort?: number;
}

export interface Service {
  /** `namespace/name`. */
  id: string;
  name: string;
  namespace: string;
  /** Host names the service answers to (e.g. `web.default.svc.cluster.local`). */
  hosts: string[];
  ports: ServicePort[];
  /** Labels that select the workloads behind the service. */
  selector?: Record<string, string>;
  /** Identities allowed to serve this service (SPIFFE URIs). */
  identities?: string[];
  labels?: Record<string, string>;
  origin?: Origin;
}

export interface Locality {
  region?: string;
  zone?: string;
  subzone?: string;
}

export type HealthStatus = "healthy" | "unhealthy" | "draining" | "unknown";

export interface Endpoint {
  address: string;
  port: number;
  weight?: number;
  locality?: Locality;
  health: HealthStatus;
  labels?: Record<string, string>;
  /** The SPIFFE URI the endpoint presents. */
  identity?: string;
}

export interface Workload {
  /** `namespace/name`. */
  id: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** SPIFFE URI. */
  identity: string;
  addresses: string[];
  ports?: Record<string, number>;
  locality?: Locality;
  weight?: number;
  origin?: Origin;
}

// ---------------------------------------------------------------- routing

export type StringMatch =
  | { exact: string; ignoreCase?: boolean }
  | { prefix: string; ignoreCase?: boolean }
  | { suffix: string; ignoreCase?: boolean }
  | { regex: string }
  | { present: true };

export interface HeaderMatch {
  name: string;
  match: StringMatch;
  invert?: boolean;
}

export interface RouteMatch {
  path?: StringMatch | { template: string };
  methods?: string[];
  headers?: HeaderMatch[];
  withoutHeaders?: HeaderMatch[];
  queryParams?: { name: string; match: StringMatch }[];
  authority?: StringMatch;
  ignoreUriCase?: boolean;
  sourceLabels?: Record<string, string>;
  port?: number;
}

export interface WeightedDestination {
  /** Cluster name (see Cluster.name). */
  cluster: string;
  weight: number;
  headers?: HeaderMutation;
}

export interface HeaderMutation {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface RetryPolicy {
  attempts: number;
  perTryTimeoutMs?: number;
  /** Envoy retry_on conditions: `5xx`, `gateway-error`, `connect-failure`, `retriable-4xx`, `refused-stream`, `reset`, `retriable-status-codes`, gRPC `cancelled`, `deadline-exceeded`, `unavailable`, ... */
  retryOn: string[];
  retriableStatusCodes?: number[];
  backoff?: { baseMs: number; maxMs: number };
  /** Budget: retries may be at most this fraction of active requests (Envoy retry_budget). */
  budget?: { percent: number; minConcurrency: number };
}

export interface FaultPolicy {
  delay?: { fixedMs: number; percent: number };
  abort?: { httpStatus?: number; grpcStatus?: number; percent: number };
}

export interface CorsPolicy {
  allowOrigins: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
}

export type RouteAction =
  | {
      kind: "forward";
      destinations: WeightedDestination[];
      timeoutMs?: number;
      retry?: RetryPolicy;
      mirror?: { cluster: string; percent: number }[];
      rewrite?: { pathPrefix?: string; uriRegex?: { pattern: string; substitution: string }; authority?: string };
      hashPolicy?: HashPolicy[];
    }
  | { kind: "redirect"; status: number; scheme?: string; host?: string; port?: number; path?: string; prefix?: string }
  | { kind: "direct"; status: number; body?: string; headers?: Record<string, string> };

export type HashPolicy =
  | { header: string }
  | { cookie: string; ttlMs?: number }
  | { sourceIp: true }
  | { queryParam: string };

export interface Route {
  name?: string;
  match: RouteMatch[];
  action: RouteAction;
  requestHeaders?: HeaderMutation;
  responseHeaders?: HeaderMutation;
  fault?: FaultPolicy;
  cors?: CorsPolicy;
  origin?: Origin;
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Route[];
}

// ---------------------------------------------------------------- clusters

export type LoadBalancer =
  | { kind: "round-robin" }
  | { kind: "least-request"; choiceCount?: number }
  | { kind: "random" }
  | { kind: "ring-hash"; minRingSize?: number }
  | { kind: "maglev"; tableSize?: number };

export interface CircuitBreakers {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
  maxRequestsPerConnection?: number;
  connectTimeoutMs?: number;
}

export interface OutlierDetection {
  consecutive5xx?: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionMs: number;
  maxEjectionPercent: number;
}

export interface HealthCheck {
  kind: "http" | "tcp" | "grpc";
  path?: string;
  grpcService?: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  expectedStatuses?: number[];
}

export type UpstreamTls =
  | { mode: "disable" }
  | { mode: "mutual"; /** Identities (SPIFFE URIs) the server may present. */ expectedIdentities: string[]; sni?: string; alpn?: string[] }
  | { mode: "simple"; sni?: string; caPem?: string };

export interface Cluster {
  /** Unique name, e.g. `outbound|8080|v1|reviews.default.svc.cluster.local`. */
  name: string;
  service?: string;
  subset?: { name: string; labels: Record<string, string> };
  protocol: Protocol;
  lb: LoadBalancer;
  endpoints: Endpoint[];
  circuitBreakers?: CircuitBreakers;
  outlierDetection?: OutlierDetection;
  healthChecks?: HealthCheck[];
  tls: UpstreamTls;
  origin?: Origin;
}

// ---------------------------------------------------------------- authorization

export type AuthzAction = "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";

/**
 * A value matcher in Istio's string form, pre-classified. `presence` is Istio's `*` (any non-empty value);
 * `template` is a path with `{*}`/`{**}`.
 */
export type ValueMatcher =
  | { kind: "exact"; value: string }
  | { kind: "prefix"; value: string }
  | { kind: "suffix"; value: string }
  | { kind: "presence" }
  | { kind: "template"; segments: string[] };

/** A field with positive and negated values; `values` are ORed, a present `notValues` must all miss. */
export interface FieldMatch<T = string> {
  values?: T[];
  notValues?: T[];
}

/** One `from.source` of an Istio rule (fields ANDed). */
export interface SourceMatch {
  principals?: FieldMatch;
  requestPrincipals?: FieldMatch;
  namespaces?: FieldMatch;
  serviceAccounts?: FieldMatch;
  ipBlocks?: FieldMatch;
  remoteIpBlocks?: FieldMatch;
}

/** One `to.operation` of an Istio rule (fields ANDed). */
export interface OperationMatch {
  hosts?: FieldMatch;
  ports?: FieldMatch;
  methods?: FieldMatch;
  paths?: FieldMatch;
}

/** One `when` condition. `key` is Istio's attribute name, e.g. `request.headers[x-token]`. */
export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthzRule {
  /** Empty = any source. */
  from: SourceMatch[];
  /** Empty = any operation. */
  to: OperationMatch[];
  when: Condition[];
}

/** Which workloads a policy applies to. */
export interface WorkloadSelector {
  /** The policy's namespace; a policy in the root namespace applies mesh-wide. */
  namespace: string;
  /** Labels the workload must carry (all of them); absent = every workload in scope. */
  matchLabels?: Record<string, string>;
  /** Kubernetes targetRefs (kind/name), when used instead of a selector. */
  targetRefs?: { group?: string; kind: string; name: string; namespace?: string }[];
}

export interface AuthzPolicy {
  /** `namespace/name`. */
  id: string;
  name: string;
  namespace: string;
  action: AuthzAction;
  /** CUSTOM only: the extension provider to ask. */
  provider?: string;
  selector: WorkloadSelector;
  /** `null`: the spec has no rules (matches nothing). `[{}]` matches everything. */
  rules: AuthzRule[] | null;
  /** Istio's dry-run annotation (`istio.io/dry-run: "true"`): evaluated and reported, never enforced. */
  dryRun?: boolean;
  origin?: Origin;
}

// ---------------------------------------------------------------- authentication

export interface JwtRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  fromHeaders?: { name: string; prefix?: string }[];
  fromParams?: string[];
  fromCookies?: string[];
  forwardOriginalToken?: boolean;
  outputPayloadToHeader?: string;
  outputClaimToHeaders?: { header: string; claim: string }[];
}

export interface AuthnPolicy {
  id: string;
  namespace: string;
  selector: WorkloadSelector;
  jwtRules: JwtRule[];
  origin?: Origin;
}

export type MtlsMode = "UNSET" | "DISABLE" | "PERMISSIVE" | "STRICT";

export interface PeerAuthnPolicy {
  id: string;
  namespace: string;
  selector: WorkloadSelector;
  mode: MtlsMode;
  portLevel?: Record<number, MtlsMode>;
  origin?: Origin;
}

/** Non-person-entity impersonation (Grey Matter rules). */
export interface ImpersonationPolicy {
  /** Distinguished names allowed to act on a user's behalf. */
  servers: string[];
  /** Header carrying the user DN (default `USER_DN`). */
  userHeader?: string;
  /** Header carrying the external system DN (default `EXTERNAL_SYS_DN`). */
  externalSystemHeader?: string;
}

// ---------------------------------------------------------------- telemetry

export interface TelemetrySettings {
  metrics: { enabled: boolean; prometheusPath?: string; overrides?: { name: string; tags?: Record<string, string | null> }[] };
  tracing: { provider?: string; samplingPercent: number; propagation: ("w3c" | "b3")[] };
  accessLog: { enabled: boolean; format?: "json" | "text"; filter?: string };
  audit?: { sink: "stdout" | "kafka"; topic?: string; includeBody?: boolean };
}

// ---------------------------------------------------------------- the whole model

export interface MeshModel {
  trustDomain: string;
  trustDomainAliases: string[];
  rootNamespace: string;
  services: Service[];
  workloads: Workload[];
  clusters: Cluster[];
  virtualHosts: VirtualHost[];
  authorization: AuthzPolicy[];
  requestAuthentication: AuthnPolicy[];
  peerAuthentication: PeerAuthnPolicy[];
  telemetry?: TelemetrySettings;
}
