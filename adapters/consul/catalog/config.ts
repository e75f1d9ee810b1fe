/**
 * @module adapters/consul/catalog/config
 * The `consul:` section of the control-plane config: where Consul is, which directions sync, which
 * services cross, and how trust and intentions are followed. Validated with zod; errors name the field
 * (`consul.sync.toConsul: ...`).
 */
import { z, zodIssuesToDiagnostics, type Diagnostic } from "../../../core/schema/index.ts";
import { loadYaml } from "../../../core/yaml/loader.ts";
import { parseGoDuration } from "../fields.ts";

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === "number" ? v : parseGoDuration(v);
  if (ms === null || ms < 0) {
    ctx.addIssue({ code: "custom", message: `expected a duration such as "30s" or milliseconds, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

export const consulBridgeConfigSchema = z.strictObject({
  /** Consul's HTTP API, `http://127.0.0.1:8500` (a bare host:port gets http://). */
  address: z.string().min(1),
  /** ACL token (`node:read`, `service:read`/`write` for exported services, `operator:write` for `trust.configureCa`). */
  token: z.string().optional(),
  datacenter: z.string().optional(),
  sync: z.strictObject({
    /** Consul's catalog → weft's registry. */
    toWeft: z.boolean().default(true),
    /** Weft's registry → Consul's catalog. */
    toConsul: z.boolean().default(false),
  }).default({ toWeft: true, toConsul: false }),
  /** Consul → weft. */
  import: z.strictObject({
    /** Weft namespace given to Consul services. */
    namespace: z.string().min(1).default("default"),
    /** Only Consul services whose name starts with one of these (default: all). */
    prefixes: z.array(z.string()).default([]),
    /** Never these Consul services. */
    exclude: z.array(z.string()).default([]),
    /** Port of the IR service (Consul instances keep their own ports). */
    servicePort: z.number().int().min(1).max(65535).default(80),
  }).default({ namespace: "default", prefixes: [], exclude: [], servicePort: 80 }),
  /** Weft → Consul. */
  export: z.strictObject({
    /** Only weft services in these namespaces (default: all). */
    namespaces: z.array(z.string()).default([]),
    /** Prefix added to the Consul service name. */
    prefix: z.string().default(""),
    /** `native`: weft endpoints are weft proxies speaking Consul mTLS (Connect-native); `none`: plain. */
    connect: z.enum(["native", "none"]).default("native"),
    ttl: duration.default(30_000),
    deregisterCriticalAfter: duration.default(300_000),
  }).default({ namespaces: [], prefix: "", connect: "native", ttl: 30_000, deregisterCriticalAfter: 300_000 }),
  trust: z.strictObject({
    /** Follow Consul's Connect CA roots into weft's trust bundle. */
    followRoots: z.boolean().default(true),
    /** Make Consul's built-in CA issue from weft's root (`PUT /v1/connect/ca/configuration`). */
    configureCa: z.boolean().default(false),
  }).default({ followRoots: true, configureCa: false }),
  intentions: z.strictObject({
    follow: z.boolean().default(true),
    /** Consul's default intention policy (`allow` when ACLs are off). */
    defaultPolicy: z.enum(["allow", "deny"]).default("allow"),
  }).default({ follow: true, defaultPolicy: "allow" }),
  /** Longest blocking wait. */
  wait: duration.default(300_000),
  /** Least time between two calls of one watch (rate limit). */
  minInterval: duration.default(50),
});

export type ConsulBridgeConfig = z.output<typeof consulBridgeConfigSchema>;

/** Validates a `consul:` section; diagnostics name `consul.<field>`. */
export function parseConsulBridgeConfig(input: unknown, file?: string): { config: ConsulBridgeConfig | null; diagnostics: Diagnostic[] } {
  const r = consulBridgeConfigSchema.safeParse(input);
  if (r.success) return { config: r.data, diagnostics: [] };
  return { config: null, diagnostics: zodIssuesToDiagnostics(r.error.issues, file ? { file } : {}, ["consul"]) };
}

/**
 * Reads the `consul:` section of a control-plane config file (YAML or JSON); other top-level sections are
 * left to their owners. `config` is null when the file has no `consul:` section or it is invalid.
 * @example
 * const { config, diagnostics } = loadConsulSection(await readFile("control.yaml", "utf8"), "control.yaml");
 */
export function loadConsulSection(text: string, file?: string): { config: ConsulBridgeConfig | null; diagnostics: Diagnostic[] } {
  const { documents, diagnostics } = loadYaml(text, file ? { file } : {});
  if (diagnostics.some((d) => d.severity === "error")) return { config: null, diagnostics };
  const doc = documents[0];
  const root = doc?.value;
  if (!doc || typeof root !== "object" || root === null || !("consul" in root)) return { config: null, diagnostics };
  const r = consulBridgeConfigSchema.safeParse((root as { consul: unknown }).consul);
  if (r.success) return { config: r.data, diagnostics };
  const located = zodIssuesToDiagnostics(r.error.issues, file ? { file } : {}, ["consul"]).map((d) => {
    const segments = (d.path ?? "consul").split(/\.|\[|\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const at = doc.locate(segments);
    return { ...d, object: "consul", ...(at.line !== undefined ? { line: at.line } : {}), ...(at.column !== undefined ? { column: at.column } : {}) };
  });
  return { config: null, diagnostics: [...diagnostics, ...located] };
}
