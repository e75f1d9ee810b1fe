/**
 * @module control/admin/mesh-graph
 * A picture of the live mesh for the UI: services (with endpoint health) and connected proxies as
 * nodes; edges from proxies to the service they front, and from callers to services as authorization
 * policies allow or deny them. The policy edges are a sketch, not a decision: a rule's `from` is
 * matched by principal (exact, `*`, prefix or suffix wildcard) and namespace only, and rules that also
 * restrict operations or conditions are drawn the same (the edge says "some requests"). The policy
 * engine remains the authority on what is allowed.
 */
import type { Service, Workload } from "../../core/ir/model.ts";
import type { ServiceEndpoints } from "../registry/registry.ts";
import type { NodeStatus } from "./mesh-status.ts";

export interface GraphNode {
  id: string;
  kind: "service" | "proxy" | "any";
  label: string;
  /** Services: endpoint counts by health. Proxies: "ok" or "nack". */
  health?: Record<string, number> | "ok" | "nack";
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: "serves" | "allow" | "deny" | "audit" | "custom";
  /** `namespace/name` of the policy behind a policy edge. */
  policy?: string;
}

export interface MeshGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface MeshGraphInput {
  services: Service[];
  workloads: Workload[];
  endpoints: ServiceEndpoints[];
  /** Raw AuthorizationPolicy objects from the config store. */
  policies: Record<string, unknown>[];
  nodes: NodeStatus[];
  rootNamespace?: string;
}

const ANY = "*";
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** Istio principal match: exact, `*`, `prefix*`, `*suffix`. Principals omit the `spiffe://` scheme. */
function principalMatches(pattern: string, identity: string): boolean {
  const id = identity.replace(/^spiffe:\/\//, "");
  if (pattern === "*") return true;
  if (pattern.endsWith("*")) return id.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith("*")) return id.endsWith(pattern.slice(1));
  return id === pattern;
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Identities serving a service: declared ones, its endpoints', and those of workloads its selector picks. */
function identitiesOf(svc: Service, workloads: Workload[], endpoints: ServiceEndpoints[]): string[] {
  const ids = new Set(svc.identities ?? []);
  for (const se of endpoints) if (se.service === svc.id) for (const e of se.endpoints) if (e.identity) ids.add(e.identity);
  for (const w of workloads) if (w.namespace === svc.namespace && selects(svc.selector, w.labels)) ids.add(w.identity);
  return [...ids];
}

/**
 * @example
 * const graph = buildMeshGraph({ ...registry.snapshot(), policies: store.list({ kind: "AuthorizationPolicy" }).map((r) => r.object), nodes: mesh.nodes() });
 */
export function buildMeshGraph(input: MeshGraphInput): MeshGraph {
  const root = input.rootNamespace ?? "istio-system";
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  for (const svc of input.services) {
    const health: Record<string, number> = {};
    for (const se of input.endpoints) if (se.service === svc.id) for (const e of se.endpoints) health[e.health] = (health[e.health] ?? 0) + 1;
    nodes.push({ id: `service:${svc.id}`, kind: "service", label: svc.id, health });
  }
  const known = new Set(input.services.map((s) => s.id));
  for (const n of input.nodes) {
    nodes.push({ id: `proxy:${n.id}`, kind: "proxy", label: n.id, health: n.lastNack ? "nack" : "ok" });
    if (n.service && known.has(n.service)) edges.push({ from: `proxy:${n.id}`, to: `service:${n.service}`, kind: "serves" });
  }
  const ids = new Map(input.services.map((s) => [s.id, identitiesOf(s, input.workloads, input.endpoints)]));
  /** Label sets a policy selector may match for a service: its selector, its labels, its endpoints' labels. */
  const labelSets = new Map(input.services.map((s) => [s.id, [s.selector, s.labels, ...input.endpoints.filter((e) => e.service === s.id).flatMap((e) => e.endpoints.map((ep) => ep.labels))]]));
  let anyUsed = false;
  const add = (e: GraphEdge) => {
    const k = `${e.from}|${e.to}|${e.kind}|${e.policy}`;
    if (seen.has(k) || e.from === e.to) return;
    seen.add(k);
    edges.push(e);
  };
  for (const p of input.policies) {
    const meta = rec(p.metadata);
    const spec = rec(p.spec);
    const ns = typeof meta.namespace === "string" && meta.namespace ? meta.namespace : "default";
    const policy = `${ns}/${String(meta.name ?? "")}`;
    const kind = (typeof spec.action === "string" ? spec.action.toLowerCase() : "allow") as GraphEdge["kind"];
    if (!["allow", "deny", "audit", "custom"].includes(kind)) continue;
    const matchLabels = rec(rec(spec.selector).matchLabels) as Record<string, string>;
    const targets = input.services.filter((s) => (ns === root || s.namespace === ns) && (Object.keys(matchLabels).length === 0 || (labelSets.get(s.id) ?? []).some((l) => selects(matchLabels, l))));
    const rules = Array.isArray(spec.rules) ? spec.rules.map(rec) : [];
    for (const rule of rules) {
      const froms = Array.isArray(rule.from) ? rule.from.map((f) => rec(rec(f).source)) : [];
      const callers = new Set<string>();
      if (froms.length === 0) callers.add(ANY);
      for (const src of froms) {
        const principals = strings(src.principals);
        const namespaces = strings(src.namespaces);
        if (principals.length === 0 && namespaces.length === 0) callers.add(ANY);
        if (principals.includes("*") || namespaces.includes("*")) callers.add(ANY);
        for (const s of input.services) {
          if (namespaces.includes(s.namespace)) callers.add(s.id);
          if (principals.some((pat) => pat !== "*" && (ids.get(s.id) ?? []).some((id) => principalMatches(pat, id)))) callers.add(s.id);
        }
      }
      for (const t of targets) {
        for (const caller of callers) {
          if (caller === ANY) anyUsed = true;
          add({ from: caller === ANY ? ANY : `service:${caller}`, to: `service:${t.id}`, kind, policy });
        }
      }
    }
  }
  if (anyUsed) nodes.push({ id: ANY, kind: "any", label: "any caller" });
  return { nodes, edges };
}
