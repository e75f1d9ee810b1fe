/**
 * @module plugins/envoy-rbac/chain
 * The authorization part of an Envoy filter chain as istiod lays it out, evaluated in order: for CUSTOM
 * policies an RBAC filter in shadow mode marks matching requests (`istio_ext_authz_shadow_effective_policy_id`)
 * and the ext_authz filter after it runs only when its `filter_enabled_metadata` matches that mark; then
 * the AUDIT (LOG), DENY and ALLOW RBAC filters. The first filter that denies ends the chain. The CUSTOM
 * provider's answer is supplied by the caller. Filters that do not authorize (jwt_authn, stats, router…)
 * are skipped. This is what "what would Envoy decide with istiod's config" means for a whole listener.
 */
import { fromBinary, fromJson, isMessage, type JsonValue } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { MetadataMatcherSchema, type MetadataMatcher } from "../../gen/proto/envoy/type/matcher/v3/metadata_pb.ts";
import type { AuthzRequest } from "../../core/policy/types.ts";
import { RBACSchema as NetworkRbacSchema } from "../../gen/proto/envoy/extensions/filters/network/rbac/v3/rbac_pb.ts";
import { ExtAuthzSchema, HttpRbacSchema } from "./protos.ts";
import { compileEnvoyRbac, tcpView, HTTP_RBAC_FILTER, NETWORK_RBAC_FILTER, type CompileOptions, type EnvoyRbacDecision } from "./compile.ts";
import { parseExtAuthzConfig } from "./config.ts";
import { compileMetadata, type DynamicMetadata } from "./matchers.ts";
import { toRbacInput, type RbacInput } from "./request.ts";

export const HTTP_EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz";
export const NETWORK_EXT_AUTHZ_FILTER = "envoy.filters.network.ext_authz";
const NETWORK_EXT_AUTHZ_TYPE = "envoy.extensions.filters.network.ext_authz.v3.ExtAuthz";

/** One filter of a chain: its name and typed config (message, Any or JSON). */
export interface ChainFilter {
  name: string;
  config: unknown;
}

export interface ChainDecideOptions {
  /** What the CUSTOM (ext_authz) provider answers when asked; default "allow". */
  customDecision?: "allow" | "deny" | "error";
  metadata?: DynamicMetadata;
}

export interface ChainDecision {
  decision: "allow" | "deny";
  /** Index (in the given list) of the filter that denied, or null. */
  deniedBy: number | null;
  /** The RBAC policy that decided a deny, when an RBAC filter denied. */
  policy: string | null;
  /** True when the ext_authz filter was enabled for this request (a CUSTOM policy matched). */
  customAsked: boolean;
  /** True when a LOG (AUDIT) filter matched. */
  audit: boolean;
  details: string | null;
  /** True when an unsupported construct could have changed the result (the decision then fails closed). */
  uncertain: boolean;
  steps: { name: string; result: EnvoyRbacDecision | { extAuthz: "skipped" | "allow" | "deny" | "error" } }[];
}

export interface CompiledChain {
  readonly kind: "http" | "network";
  readonly problems: readonly string[];
  /** Names of the filters that take part (RBAC and ext_authz), in order. */
  readonly authzFilters: readonly string[];
  decide(request: AuthzRequest, options?: ChainDecideOptions): ChainDecision;
}

type Step =
  | { type: "rbac"; name: string; index: number; decide: (input: RbacInput) => EnvoyRbacDecision }
  | { type: "extAuthz"; name: string; index: number; enabled: ((md: DynamicMetadata) => boolean) | null; failOpen: boolean; unknown: boolean };

function typeOf(config: unknown): string | undefined {
  const any = config as Partial<Any> | null;
  if (any && typeof any === "object" && typeof any.typeUrl === "string") return any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  const msg = config as { $typeName?: string; ["@type"]?: string } | null;
  if (msg && typeof msg === "object") return msg.$typeName ?? msg["@type"]?.slice(msg["@type"].lastIndexOf("/") + 1);
  return undefined;
}

/**
 * The two fields of the network ext_authz config (`envoy.extensions.filters.network.ext_authz.v3.ExtAuthz`)
 * that decide whether a connection is checked: `failure_mode_allow` (3) and `filter_enabled_metadata` (6).
 * weft has no generated type for that message, so the Any's bytes are read field by field.
 */
function parseNetworkExtAuthz(config: unknown): { failOpen: boolean; enabled: MetadataMatcher | undefined } {
  const any = config as Partial<Any> | null;
  if (isMessage(config, AnySchema) || (typeof any?.typeUrl === "string" && any.value instanceof Uint8Array)) {
    const r = new BinaryReader(any!.value!);
    let failOpen = false;
    let enabled: MetadataMatcher | undefined;
    while (r.pos < r.len) {
      const [no, type] = r.tag();
      if (no === 3 && type === WireType.Varint) failOpen = r.bool();
      else if (no === 6 && type === WireType.LengthDelimited) enabled = fromBinary(MetadataMatcherSchema, r.bytes());
      else r.skip(type, no);
    }
    return { failOpen, enabled };
  }
  const json = (config ?? {}) as { failureModeAllow?: boolean; filterEnabledMetadata?: JsonValue };
  return {
    failOpen: json.failureModeAllow === true,
    enabled: json.filterEnabledMetadata === undefined ? undefined : fromJson(MetadataMatcherSchema, json.filterEnabledMetadata),
  };
}

function merge(into: Record<string, unknown>, add: Record<string, Record<string, unknown>>): void {
  for (const [ns, fields] of Object.entries(add)) into[ns] = { ...((into[ns] as Record<string, unknown> | undefined) ?? {}), ...fields };
}

/**
 * Compiles the authorization filters of one HTTP filter list or network filter list.
 * @example
 * const chain = compileEnvoyAuthzChain(hcm.httpFilters.map((f) => ({ name: f.name, config: f.configType.value })));
 * chain.decide(request, { customDecision: "deny" }).decision;
 */
export function compileEnvoyAuthzChain(filters: readonly ChainFilter[], options: CompileOptions & { kind?: "http" | "network" } = {}): CompiledChain {
  const problems: string[] = [];
  const steps: Step[] = [];
  let kind = options.kind;
  filters.forEach((f, index) => {
    const type = typeOf(f.config);
    const isRbac = type === HttpRbacSchema.typeName || type === NetworkRbacSchema.typeName || ((f.name === HTTP_RBAC_FILTER || f.name === NETWORK_RBAC_FILTER) && type === undefined);
    if (isRbac) {
      const c = compileEnvoyRbac(f.config, options);
      kind ??= c.kind;
      problems.push(...c.problems.map((p) => `${f.name}[${index}]: ${p}`));
      steps.push({ type: "rbac", name: f.name, index, decide: c.decideInput });
      return;
    }
    if (type === ExtAuthzSchema.typeName || (f.name === HTTP_EXT_AUTHZ_FILTER && type === undefined)) {
      try {
        const cfg = parseExtAuthzConfig(f.config);
        const enabled = cfg.filterEnabledMetadata ? compileMetadata(cfg.filterEnabledMetadata, `${f.name}[${index}].filterEnabledMetadata`) : null;
        if (cfg.filterEnabled !== undefined && (cfg.filterEnabled.defaultValue?.numerator ?? 100) < 100) {
          problems.push(`${f.name}[${index}].filterEnabled: a runtime fraction is not supported; treated as always on`);
        }
        steps.push({ type: "extAuthz", name: f.name, index, enabled, failOpen: cfg.failureModeAllow, unknown: false });
      } catch (err) {
        problems.push(`${f.name}[${index}]: ${err instanceof Error ? err.message : String(err)}`);
        steps.push({ type: "extAuthz", name: f.name, index, enabled: null, failOpen: false, unknown: true });
      }
      return;
    }
    if (type === NETWORK_EXT_AUTHZ_TYPE || (f.name === NETWORK_EXT_AUTHZ_FILTER && type === undefined)) {
      try {
        const cfg = parseNetworkExtAuthz(f.config);
        const enabled = cfg.enabled ? compileMetadata(cfg.enabled, `${f.name}[${index}].filterEnabledMetadata`) : null;
        steps.push({ type: "extAuthz", name: f.name, index, enabled, failOpen: cfg.failOpen, unknown: false });
      } catch (err) {
        problems.push(`${f.name}[${index}]: ${err instanceof Error ? err.message : String(err)}`);
        steps.push({ type: "extAuthz", name: f.name, index, enabled: null, failOpen: false, unknown: true });
      }
    }
  });
  const chainKind = kind ?? "http";

  return {
    kind: chainKind,
    problems,
    authzFilters: steps.map((s) => s.name),
    decide(request, opts = {}) {
      const req = chainKind === "network" ? tcpView(request) : request;
      const base = toRbacInput(req, { pathNormalization: options.pathNormalization, metadata: opts.metadata });
      const metadata: Record<string, unknown> = { ...base.metadata };
      let shadowUncertain = false;
      const out: ChainDecision = { decision: "allow", deniedBy: null, policy: null, customAsked: false, audit: false, details: null, uncertain: false, steps: [] };
      const deny = (index: number, details: string, policy: string | null): ChainDecision => ({ ...out, decision: "deny", deniedBy: index, details, policy });
      for (const s of steps) {
        if (s.type === "rbac") {
          const d = s.decide({ ...base, metadata });
          out.steps.push({ name: s.name, result: d });
          merge(metadata, d.metadata);
          out.uncertain ||= d.uncertain;
          shadowUncertain ||= d.shadowUncertain;
          if (d.action === "LOG" && d.policy !== null) out.audit = true;
          if (d.decision === "deny") return deny(s.index, d.details ?? "rbac_access_denied", d.policy);
          continue;
        }
        if (s.unknown || (s.enabled && shadowUncertain)) {
          out.uncertain = true;
          out.steps.push({ name: s.name, result: { extAuthz: "error" } });
          return deny(s.index, "ext_authz_error", null);
        }
        if (s.enabled && !s.enabled(metadata)) {
          out.steps.push({ name: s.name, result: { extAuthz: "skipped" } });
          continue;
        }
        out.customAsked = true;
        const answer = opts.customDecision ?? "allow";
        out.steps.push({ name: s.name, result: { extAuthz: answer } });
        if (answer === "deny") return deny(s.index, "ext_authz_denied", null);
        if (answer === "error" && !s.failOpen) return deny(s.index, "ext_authz_error", null);
      }
      return out;
    },
  };
}
