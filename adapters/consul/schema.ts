/**
 * @module adapters/consul/schema
 * Shapes of the Consul config entries weft reads and writes — `service-intentions`, `service-router`,
 * `service-splitter`, `service-resolver`, `service-defaults`, `proxy-defaults` and `jwt-provider` — field
 * for field as Consul 1.22's `agent/structs/config_entry*.go` define them, keys read as Consul reads them
 * (see `fields.ts`). Enterprise fields (`Namespace`, `Partition`, `SamenessGroup`) are accepted and
 * modelled; Consul CE rejects them on write. Checks beyond shape live in `validate.ts`.
 */
import { z } from "../../core/schema/index.ts";
import { consulStruct, goDuration, meta, stringList } from "./fields.ts";

const str = z.string().optional();
const bool = z.boolean().optional();
const int = z.number().int().optional();
const ent = { Namespace: str, Partition: str };
const entryBase = { Kind: z.string(), Name: z.string({ error: "Name is required" }), Meta: meta, Hash: z.number().optional(), ...ent };

// ---------------------------------------------------------------- service-intentions

const jwtRequirement = consulStruct({
  Providers: z.array(consulStruct({
    Name: str,
    VerifyClaims: z.array(consulStruct({ Path: stringList, Value: str })).nullish(),
  })).nullish(),
});

export const headerPermission = consulStruct({
  Name: z.string().optional(), Present: bool, Exact: str, Prefix: str, Suffix: str, Contains: str, Regex: str, Invert: bool, IgnoreCase: bool,
});

export const intentionPermission = consulStruct({
  Action: str,
  HTTP: consulStruct({
    PathExact: str, PathPrefix: str, PathRegex: str,
    Header: z.array(headerPermission).nullish(),
    Methods: stringList,
  }).nullish(),
  JWT: jwtRequirement.nullish(),
});

export const sourceIntention = consulStruct({
  Name: str,
  Action: str,
  Permissions: z.array(intentionPermission).nullish(),
  Precedence: int,
  Type: str,
  Description: str,
  LegacyID: str,
  LegacyMeta: meta,
  LegacyCreateTime: str,
  LegacyUpdateTime: str,
  Peer: str,
  SamenessGroup: str,
  ...ent,
});

export const serviceIntentionsSchema = consulStruct({ ...entryBase, Sources: z.array(sourceIntention).nullish(), JWT: jwtRequirement.nullish() }, { topLevel: true });

// ---------------------------------------------------------------- service-router

const headerModifiers = consulStruct({ Add: meta, Set: meta, Remove: stringList }).nullish();

export const routeHeaderMatch = consulStruct({ Name: str, Present: bool, Exact: str, Prefix: str, Suffix: str, Regex: str, Invert: bool });

export const serviceRoute = consulStruct({
  Match: consulStruct({
    HTTP: consulStruct({
      PathExact: str, PathPrefix: str, PathRegex: str, CaseInsensitive: bool,
      Header: z.array(routeHeaderMatch).nullish(),
      QueryParam: z.array(consulStruct({ Name: str, Present: bool, Exact: str, Regex: str })).nullish(),
      Methods: stringList,
    }).nullish(),
  }).nullish(),
  Destination: consulStruct({
    Service: str, ServiceSubset: str, ...ent, PrefixRewrite: str,
    RequestTimeout: goDuration.optional(), IdleTimeout: goDuration.optional(),
    NumRetries: z.number().int().min(0).optional(), RetryOnConnectFailure: bool, RetryOn: stringList,
    RetryOnStatusCodes: z.array(z.number().int()).nullish(),
    RequestHeaders: headerModifiers, ResponseHeaders: headerModifiers,
  }).nullish(),
});

export const serviceRouterSchema = consulStruct({ ...entryBase, Routes: z.array(serviceRoute).nullish() }, { topLevel: true });

// ---------------------------------------------------------------- service-splitter

export const serviceSplit = consulStruct({
  Weight: z.number({ error: "Weight must be a number" }),
  Service: str, ServiceSubset: str, ...ent,
  RequestHeaders: headerModifiers, ResponseHeaders: headerModifiers,
});

export const serviceSplitterSchema = consulStruct({ ...entryBase, Splits: z.array(serviceSplit).nullish() }, { topLevel: true });

// ---------------------------------------------------------------- service-resolver

const failoverTarget = consulStruct({ Service: str, ServiceSubset: str, ...ent, Datacenter: str, Peer: str });
const failoverPolicy = consulStruct({ Mode: str, Regions: stringList }).nullish();

export const serviceResolverSchema = consulStruct({
  ...entryBase,
  DefaultSubset: str,
  Subsets: z.record(z.string(), consulStruct({ Filter: str, OnlyPassing: bool })).nullish(),
  Redirect: consulStruct({ Service: str, ServiceSubset: str, ...ent, Datacenter: str, Peer: str, SamenessGroup: str }).nullish(),
  Failover: z.record(z.string(), consulStruct({
    Service: str, ServiceSubset: str, Namespace: str, Datacenters: stringList,
    Targets: z.array(failoverTarget).nullish(), Policy: failoverPolicy, SamenessGroup: str,
  })).nullish(),
  PrioritizeByLocality: consulStruct({ Mode: str }).nullish(),
  ConnectTimeout: goDuration.optional(),
  RequestTimeout: goDuration.optional(),
  LoadBalancer: consulStruct({
    Policy: str,
    RingHashConfig: consulStruct({ MinimumRingSize: int, MaximumRingSize: int }).nullish(),
    LeastRequestConfig: consulStruct({ ChoiceCount: int }).nullish(),
    HashPolicies: z.array(consulStruct({
      Field: str, FieldValue: str, SourceIP: bool, Terminal: bool,
      CookieConfig: consulStruct({ Session: bool, TTL: goDuration.optional(), Path: str }).nullish(),
    })).nullish(),
  }).nullish(),
}, { topLevel: true });

// ---------------------------------------------------------------- service-defaults / proxy-defaults

const meshGateway = consulStruct({ Mode: str }).optional();
const transparentProxy = consulStruct({ OutboundListenerPort: int, DialedDirectly: bool }).optional();
const expose = consulStruct({
  Checks: bool,
  Paths: z.array(consulStruct({ ListenerPort: int, Path: str, LocalPathPort: int, Protocol: str, ParsedFromCheck: bool })).nullish(),
}).optional();
const envoyExtensions = z.array(consulStruct({
  Name: z.string(), Required: bool, Arguments: z.record(z.string(), z.unknown()).nullish(), ConsulVersion: str, EnvoyVersion: str,
})).nullish();

const upstreamConfig = consulStruct({
  Name: str, ...ent, Peer: str, EnvoyListenerJSON: str, EnvoyClusterJSON: str, Protocol: str, ConnectTimeoutMs: int,
  Limits: consulStruct({ MaxConnections: int, MaxPendingRequests: int, MaxConcurrentRequests: int }).nullish(),
  PassiveHealthCheck: consulStruct({
    Interval: goDuration.optional(), MaxFailures: int, EnforcingConsecutive5xx: int, MaxEjectionPercent: int, BaseEjectionTime: goDuration.optional(),
  }).nullish(),
  MeshGateway: meshGateway,
  BalanceOutboundConnections: str,
});

export const serviceDefaultsSchema = consulStruct({
  ...entryBase,
  Protocol: str, Mode: str, TransparentProxy: transparentProxy, MutualTLSMode: str, MeshGateway: meshGateway, Expose: expose,
  ExternalSNI: str,
  UpstreamConfig: consulStruct({ Overrides: z.array(upstreamConfig).nullish(), Defaults: upstreamConfig.nullish() }).nullish(),
  Destination: consulStruct({ Addresses: stringList, Port: int }).nullish(),
  MaxInboundConnections: int, LocalConnectTimeoutMs: int, LocalRequestTimeoutMs: int, BalanceInboundConnections: str,
  RateLimits: consulStruct({
    InstanceLevel: consulStruct({
      RequestsPerSecond: int, RequestsMaxBurst: int,
      Routes: z.array(consulStruct({ PathExact: str, PathPrefix: str, PathRegex: str, RequestsPerSecond: int, RequestsMaxBurst: int })).nullish(),
    }).optional(),
  }).nullish(),
  EnvoyExtensions: envoyExtensions,
  MaxRequestHeadersKB: int,
}, { topLevel: true });

export const proxyDefaultsSchema = consulStruct({
  ...entryBase,
  Config: z.record(z.string(), z.unknown()).nullish(),
  Mode: str, TransparentProxy: transparentProxy, MutualTLSMode: str, MeshGateway: meshGateway, Expose: expose,
  AccessLogs: consulStruct({ Enabled: bool, DisableListenerLogs: bool, Type: str, Path: str, JSONFormat: str, TextFormat: str }).optional(),
  EnvoyExtensions: envoyExtensions,
  FailoverPolicy: failoverPolicy,
  PrioritizeByLocality: consulStruct({ Mode: str }).nullish(),
}, { topLevel: true });

// ---------------------------------------------------------------- jwt-provider (issuer of intention JWT requirements)

export const jwtProviderSchema = z.looseObject({
  Kind: z.string(), Name: z.string({ error: "Name is required" }), Issuer: z.string().optional(),
});

export type ServiceIntentionsEntry = z.infer<typeof serviceIntentionsSchema>;
export type SourceIntention = z.infer<typeof sourceIntention>;
export type IntentionPermission = z.infer<typeof intentionPermission>;
export type ServiceRouterEntry = z.infer<typeof serviceRouterSchema>;
export type ServiceSplitterEntry = z.infer<typeof serviceSplitterSchema>;
export type ServiceResolverEntry = z.infer<typeof serviceResolverSchema>;
export type ServiceDefaultsEntry = z.infer<typeof serviceDefaultsSchema>;
export type ProxyDefaultsEntry = z.infer<typeof proxyDefaultsSchema>;
export type JwtProviderEntry = z.infer<typeof jwtProviderSchema>;

/** Every kind weft reads, by Consul's kind name. */
export const consulEntrySchemas = {
  "service-intentions": serviceIntentionsSchema,
  "service-router": serviceRouterSchema,
  "service-splitter": serviceSplitterSchema,
  "service-resolver": serviceResolverSchema,
  "service-defaults": serviceDefaultsSchema,
  "proxy-defaults": proxyDefaultsSchema,
  "jwt-provider": jwtProviderSchema,
} as const;

export type ConsulKind = keyof typeof consulEntrySchemas;

/** A parsed, validated entry of any kind. */
export type ConsulEntry =
  | { kind: "service-intentions"; entry: ServiceIntentionsEntry }
  | { kind: "service-router"; entry: ServiceRouterEntry }
  | { kind: "service-splitter"; entry: ServiceSplitterEntry }
  | { kind: "service-resolver"; entry: ServiceResolverEntry }
  | { kind: "service-defaults"; entry: ServiceDefaultsEntry }
  | { kind: "proxy-defaults"; entry: ProxyDefaultsEntry }
  | { kind: "jwt-provider"; entry: JwtProviderEntry };
