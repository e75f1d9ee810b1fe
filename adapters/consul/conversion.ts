/**
 * @module adapters/consul/conversion
 * The Consul bridge's pure conversions, in both directions, each with a loss report:
 * - `consulToIr(entries)`: `service-intentions` → one ordered authorization policy (Consul's precedence
 *   and first-match semantics; see `intentions.ts`), `service-router`/`-splitter`/`-resolver` → virtual
 *   hosts and clusters (see `traffic.ts`). `service-defaults`/`proxy-defaults` inform protocols only.
 * - `irToConsul(model)`: authorization policies → `service-intentions` (see `intentions-emit.ts`), virtual
 *   hosts and clusters → chain entries (see `traffic-emit.ts`).
 * No I/O: callers load entries with `entries.ts` / `load-mixed.ts`.
 */
import type { AuthzPolicy, Cluster, VirtualHost } from "../../core/ir/model.ts";
import type { LoadedEntry } from "./entries.ts";
import { intentionsToPolicy, type IntentionOptions } from "./intentions.ts";
import { policiesToIntentions } from "./intentions-emit.ts";
import type { Loss } from "./loss.ts";
import type { ConsulEntry, JwtProviderEntry, ServiceIntentionsEntry } from "./schema.ts";
import { trafficToIr } from "./traffic.ts";
import { routingToConsul } from "./traffic-emit.ts";

export type { Loss } from "./loss.ts";

/** The parts of the mesh model the bridge converts (weft's "weft" translate format). */
export interface ConvertedModel {
  authorization: AuthzPolicy[];
  virtualHosts: VirtualHost[];
  clusters: Cluster[];
}

const entriesOf = (es: readonly (LoadedEntry | ConsulEntry)[]): ConsulEntry[] => es.map((e) => ("ref" in e ? e.entry : e));

/**
 * The ordered authorization policy of a set of entries (its intentions, with JWT issuers from its
 * `jwt-provider` entries). An empty set yields a policy that applies only the default.
 */
export function consulAuthzPolicy(es: readonly (LoadedEntry | ConsulEntry)[], options: IntentionOptions = {}): { policy: AuthzPolicy; losses: Loss[] } {
  const all = entriesOf(es);
  const intentions = all.filter((e) => e.kind === "service-intentions").map((e) => e.entry as ServiceIntentionsEntry);
  const jwtProviders = [...(options.jwtProviders ?? []), ...all.filter((e) => e.kind === "jwt-provider").map((e) => e.entry as JwtProviderEntry)];
  return intentionsToPolicy(intentions, { ...options, jwtProviders });
}

/**
 * Consul entries → IR.
 * @example
 * const { model, losses } = consulToIr(loadConsulEntries(text).entries, { defaultAction: "deny" });
 */
export function consulToIr(es: readonly (LoadedEntry | ConsulEntry)[], options: IntentionOptions = {}): { model: ConvertedModel; losses: Loss[] } {
  const all = entriesOf(es);
  const losses: Loss[] = [];
  const authorization: AuthzPolicy[] = [];
  if (all.some((e) => e.kind === "service-intentions")) {
    const a = consulAuthzPolicy(all, options);
    authorization.push(a.policy);
    losses.push(...a.losses);
  }
  const t = trafficToIr({
    routers: all.flatMap((e) => (e.kind === "service-router" ? [e.entry] : [])),
    splitters: all.flatMap((e) => (e.kind === "service-splitter" ? [e.entry] : [])),
    resolvers: all.flatMap((e) => (e.kind === "service-resolver" ? [e.entry] : [])),
  });
  losses.push(...t.losses);
  const tcp = new Set<string>();
  for (const e of all) {
    if (e.kind === "service-defaults" && e.entry.Protocol && !["http", "http2", "grpc"].includes(e.entry.Protocol)) tcp.add(e.entry.Name);
    if (e.kind === "service-defaults" || e.kind === "proxy-defaults") {
      losses.push({ object: `${e.kind}/${e.entry.Name}`, field: "", reason: `${e.kind} settings (protocol, mesh gateway, transparent proxy, upstream limits, ...) are proxy configuration the IR does not carry`, kind: "lost" });
    }
  }
  for (const c of t.clusters) if (c.service && tcp.has(c.service.split("/")[1]!)) c.protocol = "tcp";
  return { model: { authorization, virtualHosts: t.virtualHosts, clusters: t.clusters }, losses };
}

/**
 * IR → Consul entries (JSON objects as `consul config write` takes them).
 * @example
 * const { entries, losses } = irToConsul({ authorization, virtualHosts: [], clusters: [] });
 */
export function irToConsul(model: Partial<ConvertedModel>, options: { rootNamespace?: string } = {}): { entries: Record<string, unknown>[]; losses: Loss[] } {
  const a = policiesToIntentions(model.authorization ?? [], options);
  const t = routingToConsul(model.virtualHosts ?? [], model.clusters ?? []);
  return { entries: [...a.entries, ...t.entries], losses: [...a.losses, ...t.losses] };
}
