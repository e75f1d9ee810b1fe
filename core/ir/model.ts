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
  /**
   * The outside system's protocol name when it says more than `protocol` (Istio `HTTPS`, `GRPC-WEB`,
   * `MONGO`, `MYSQL`, `REDIS`, `UDP`, `HTTP_PROXY`), kept so it can be written back.
   */
  protocolName?: string;
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
  /** Virtual IPs or CIDRs the service answers on (Istio ServiceEntry `addresses`). */
  addresses?: string[];
  /** True for a service outside the mesh (no mesh proxy, no mesh mTLS; Istio `MESH_EXTERNAL`). */
  external?: boolean;
  /** How endpoints are found: listed (`static`), by DNS, or not at all (`none`: the original destination). */
  resolution?: "none" | "static" | "dns" | "dns-round-robin" | "dynamic-dns";
  /** Namespaces the object is visible to (Istio `exportTo`: `.`, `*`, `~` or names); absent = everywhere. */
  exportTo?: string[];
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
  /** The network the endpoint is on (multi-network meshes); absent = the local network. */
  network?: string;
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
  /** The network the workload is on (multi-network meshes); absent = the local network. */
  network?: string;
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
  /** The request's URI scheme (`http`, `https`). */
  scheme?: StringMatch;
  /** Only requests from workloads in this namespace. */
  sourceNamespace?: string;
  /** Only requests arriving through these gateways (`namespace/name`, or `mesh` for sidecars). */
  gateways?: string[];
  /** A name for the match, shown in logs and stats (Istio prefixes the route name with it). */
  name?: string;
}

export interface WeightedDestination {
  /** Cluster name (see Cluster.name). */
  cluster: string;
  weight: number;
  headers?: HeaderMutation;
  /** Response header changes when this destination was chosen (`headers` are the request's). */
  responseHeaders?: HeaderMutation;
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
  /** Retry on a different host than the ones already tried (Envoy previous_hosts predicate); absent = false. */
  ignorePreviousHosts?: boolean;
  /** Retry in other localities after local ones failed (Envoy previous_priorities); absent = false. */
  remoteLocalities?: boolean;
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
  /** Preflight requests whose origin is not allowed: `forward` them upstream or `ignore` (answer without CORS headers). */
  unmatchedPreflights?: "forward" | "ignore";
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
  | {
      kind: "redirect"; status: number; scheme?: string; host?: string; port?: number; path?: string; prefix?: string;
      /** Port of the redirect URL taken from the request's port or the scheme's default (instead of `port`). */
      derivePort?: "from-request-port" | "from-protocol-default";
    }
  | { kind: "direct"; status: number; body?: string; headers?: Record<string, string> };

export type HashPolicy =
  | { header: string }
  | { cookie: string; ttlMs?: number; /** Cookie path when the proxy generates the cookie. */ path?: string }
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
  /**
   * The route's requests are routed by the routes of another route set (Istio VirtualService `delegate`),
   * `namespace/name` split. Until the delegate is resolved, `action` is a `forward` with no destinations.
   */
  delegate?: { name: string; namespace?: string };
  origin?: Origin;
}

/** Which layer-4 connections an `L4Route` takes (every present field must match). */
export interface L4Match {
  port?: number;
  /** Destination IPs or CIDRs. */
  destinationSubnets?: string[];
  /** TLS SNI names the connection must carry (TLS routes; `*.example.com` wildcards allowed). */
  sniHosts?: string[];
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  /** Source IP or CIDR. */
  sourceSubnet?: string;
  /** Gateways the connection must arrive through (`namespace/name`, or `mesh`). */
  gateways?: string[];
}

/** A TCP or TLS-passthrough route: the first route with a matching `match` (or none = any) forwards the connection. */
export interface L4Route {
  match: L4Match[];
  destinations: WeightedDestination[];
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Route[];
  /** TCP routes for the domains' non-HTTP ports, first match wins. */
  tcpRoutes?: L4Route[];
  /** TLS-passthrough routes (by SNI), first match wins. */
  tlsRoutes?: L4Route[];
  /** Gateways the routes apply to (`namespace/name`, or `mesh` for sidecars); absent = sidecars only. */
  gateways?: string[];
  /** Namespaces the routes are visible to (Istio `exportTo`); absent = everywhere. */
  exportTo?: string[];
  origin?: Origin;
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

/** How upstream connections are kept (Istio connectionPool settings beyond the circuit-breaker limits). */
export interface ConnectionSettings {
  /** Close an HTTP upstream connection idle this long. */
  idleTimeoutMs?: number;
  /** Close a proxied TCP connection idle this long (both directions quiet). */
  tcpIdleTimeoutMs?: number;
  /** Close a connection this old. */
  maxConnectionDurationMs?: number;
  tcpKeepalive?: { probes?: number; timeMs?: number; intervalMs?: number };
  /** HTTP/1.1 to HTTP/2 upstream: `upgrade` or `do-not-upgrade`; absent = the mesh default. */
  h2Upgrade?: "upgrade" | "do-not-upgrade";
  /** Use the downstream's HTTP version upstream. */
  useClientProtocol?: boolean;
  /** HTTP/2 concurrent streams per connection. */
  maxConcurrentStreams?: number;
}

export interface OutlierDetection {
  consecutive5xx?: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionMs: number;
  maxEjectionPercent: number;
  /** Below this share of healthy hosts the balancer ignores health (Envoy panic threshold); 0 disables. */
  minHealthPercent?: number;
  /** Count local-origin failures (resets, timeouts) apart from upstream 5xx. */
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailures?: number;
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

/** Client certificate and roots from files or a secret instead of the mesh identity (Istio `MUTUAL`). */
export interface TlsFiles {
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  /** A secret holding the certificate, key and roots. */
  credentialName?: string;
  caCrl?: string;
}

export type UpstreamTls =
  | { mode: "disable" }
  | {
      mode: "mutual"; /** Identities (SPIFFE URIs) the server may present. */ expectedIdentities: string[]; sni?: string; alpn?: string[];
      /** `service`: `expectedIdentities` are the service's workloads' identities (Istio's default) and follow them. */
      identitySource?: "explicit" | "service";
      /** Mutual TLS only when the endpoint runs a mesh proxy, plaintext otherwise (Istio auto mTLS). */
      auto?: boolean;
      /** Present: not the mesh identity but these certificates (Istio `MUTUAL`). */
      files?: TlsFiles;
      insecureSkipVerify?: boolean;
    }
  | {
      mode: "simple"; sni?: string; caPem?: string;
      /** File with the roots to verify the server (instead of `caPem`). */
      caCertificates?: string;
      credentialName?: string;
      /** Names the server certificate must carry. */
      subjectAltNames?: string[];
      insecureSkipVerify?: boolean;
      caCrl?: string;
    };

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
  /** How routes to this cluster pick a host with a hashing balancer (route `hashPolicy` wins). */
  hashPolicy?: HashPolicy[];
  connection?: ConnectionSettings;
  /** Namespaces the settings are visible to (Istio `exportTo`); absent = everywhere. */
  exportTo?: string[];
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
  /**
   * Present: an ordered first-match policy (Consul intentions' model); `action`, `rules` and `selector`
   * are then not used for matching. See `OrderedAuthz`.
   */
  ordered?: OrderedAuthz;
  origin?: Origin;
}

// ---------------------------------------------------------------- ordered authorization (Consul intentions)

/** A peer-identity pattern of an ordered rule. */
export type PeerPattern =
  /**
   * A Consul service identity `spiffe://<td>[/ap/<partition>]/ns/<namespace>/dc/<any>/svc/<service>`.
   * `namespace` and `service` may be `*` (any); `trustDomain` absent = any; `partition` absent = `default`.
   * `peer` names the cluster peer the source comes from (kept for round trips; matching uses `trustDomain`).
   */
  | { consul: { trustDomain?: string; partition?: string; namespace: string; service: string; peer?: string } }
  /** Any peer whose SPIFFE URI the matcher accepts. */
  | { principal: StringMatch };

/** A JWT the request must carry: a validated token from `issuer` whose claims hold every `claims` entry. */
export interface JwtRequirement {
  issuer: string;
  /** `path` into the payload; the claim equals `value`, or is a list that contains it. */
  claims?: { path: string[]; value: string }[];
}

/** One L7 permission of an ordered rule: every present field must match (Envoy semantics). */
export interface OrderedPermission {
  action: "ALLOW" | "DENY";
  http: { path?: StringMatch; methods?: string[]; headers?: HeaderMatch[] };
  /** Any of these JWTs; when the permission matches but no JWT does, the policy's default decides. */
  jwt?: JwtRequirement[];
}

/** One rule: the destinations it covers, the peers it matches, and what it decides. */
export interface OrderedAuthzRule {
  /** Shown in decisions, e.g. `web → api`. */
  name?: string;
  /** `service` matches the request's `destination.service`, `namespace` its `destination.namespace`; `*` or absent = any. */
  destination: { namespace?: string; service?: string; partition?: string };
  /** ORed. */
  sources: PeerPattern[];
  /** L4 decision; exclusive with `permissions`. */
  action?: "ALLOW" | "DENY";
  /** L7: the first matching permission decides; none matches → `defaultAction`; TCP traffic → DENY. */
  permissions?: OrderedPermission[];
  /** HTTP only: any of these JWTs; when the source matches but no JWT does, `defaultAction` decides. */
  jwt?: JwtRequirement[];
}

/**
 * An ordered first-match policy: the first rule whose destination and sources match decides (later rules
 * are not consulted), through its action or its permissions; no matching rule → `defaultAction`. It applies
 * to requests that name a `destination.service`, and combines with Istio-style policies as a separate
 * layer: a request must pass both (as two RBAC filters in one Envoy chain would).
 */
export interface OrderedAuthz {
  rules: OrderedAuthzRule[];
  defaultAction: "ALLOW" | "DENY";
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
  /** Claims whose string value is a space-separated list (like `scope`). */
  spaceDelimitedClaims?: string[];
  /** Timeout for fetching `jwksUri`. */
  timeoutMs?: number;
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

/** Which side of a connection a telemetry rule applies to. */
export type TelemetryMode = "CLIENT_AND_SERVER" | "CLIENT" | "SERVER";

/** A span tag: a literal, an environment variable, a request header or a formatter expression. */
export type TraceTag =
  | { literal: string }
  | { environment: string; defaultValue?: string }
  | { header: string; defaultValue?: string }
  | { formatter: string };

/**
 * A scoped telemetry policy (Istio `Telemetry`): what workloads in `selector` trace, measure and log.
 * Policies in the root namespace apply mesh-wide, then namespace, then selected workloads (most specific
 * wins, per list). Absent lists inherit; `providers` name MeshConfig extension providers.
 */
export interface TelemetryPolicy {
  id: string;
  namespace: string;
  selector: WorkloadSelector;
  tracing?: {
    mode?: TelemetryMode; providers?: string[]; samplingPercent?: number; disableSpanReporting?: boolean;
    customTags?: Record<string, TraceTag>; useRequestIdForTraceSampling?: boolean; enableIstioTags?: boolean;
    /** Do not forward trace context headers (Istio's `disableContextPropagation`); spans are still reported. */
    disableContextPropagation?: boolean;
  }[];
  metrics?: {
    providers?: string[];
    /** `metric` is Istio's standard metric name (`REQUEST_COUNT`, `ALL_METRICS`, ...) or `customMetric` a custom one. */
    overrides?: { metric?: string; customMetric?: string; mode?: TelemetryMode; disabled?: boolean; tags?: Record<string, { remove: true } | { value: string }> }[];
    reportingIntervalMs?: number;
  }[];
  accessLogging?: { mode?: TelemetryMode; providers?: string[]; disabled?: boolean; /** CEL expression; only matching requests are logged. */ filter?: string }[];
  origin?: Origin;
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
  /** Scoped telemetry policies (Istio `Telemetry`); `telemetry` is the effective mesh-wide result. */
  telemetryPolicies?: TelemetryPolicy[];
}
