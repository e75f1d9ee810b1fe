// Decision parity between weft's policy engine and the RBAC config the real istiod generates. istiod
// (pilot-discovery 1.31-dev) runs against a real kube-apiserver with Istio's CRDs and reads its Istio config
// from the API server (the peer's `--configDir` is overridden with an empty one). The Istio authorization
// corpus (core/policy/corpus) is applied there one case at a time, then a batch of random policy sets
// (fast-check, fixed seed). For every destination workload the suite connects to istiod's plaintext xDS
// port as that workload's sidecar (ADS, node metadata as an istio-agent sends it; no Pod is needed), fetches
// LDS, takes the RBAC and ext_authz filters of the inbound passthrough chains and evaluates them with
// plugins/envoy-rbac. Each request's decision (and whether the CUSTOM provider is asked) must equal weft's
// engine's, for the corpus requests, ten variants of each, and the random requests. A marker AUDIT policy
// per step (`weft-sync-<n>`, port 1, so it decides nothing) tells when istiod's push carries the new set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import { ensureCrds } from "../../adapters/kubernetes/crds.ts";
import { authorizerFromYaml, authorizationPoliciesFromYaml } from "../../core/policy/index.ts";
import { corpus, type CorpusCase } from "../../core/policy/corpus/index.ts";
import type { AuthzRequest, EngineOptions } from "../../core/policy/types.ts";
import { compileEnvoyAuthzChain } from "../../plugins/envoy-rbac/index.ts";
import { requestVariants } from "../../plugins/envoy-rbac/testing.ts";
import istio, { type IstiodHandle } from "../peers/istio/peer.ts";
import kubernetes, { type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { requirePeers } from "../peers/suite.ts";
import { apiFor, istioCrds } from "../kubernetes/helpers.ts";
import { authorizationPoliciesFromYaml as irPolicies } from "../../core/policy/index.ts";
import type { MeshModel } from "../../core/ir/model.ts";
import { authzHttpFilters, policiesForWorkload } from "../../control/xds/translate/rbac-filters.ts";
import { createPolicyApplier, fetchListeners, inboundAuthz, rbacPolicies, type InboundAuthz, type SidecarWorkload } from "./rbac-parity-helpers.ts";
import { policySet, request as randomRequest } from "./rbac-parity-generator.ts";

const { ready } = await requirePeers(import.meta.url, istio, kubernetes);

/** CUSTOM providers the corpus names, backed by a Service in the API server (istiod resolves them to clusters). */
const PROVIDERS = [
  { name: "my-custom-authz", envoyExtAuthzHttp: { service: "ext-authz.foo.svc.cluster.local", port: 8000, includeRequestHeadersInCheck: ["x-ext-authz"] } },
  { name: "sample-ext-authz-grpc", envoyExtAuthzGrpc: { service: "ext-authz.foo.svc.cluster.local", port: 9000 } },
  { name: "my-authz", envoyExtAuthzGrpc: { service: "ext-authz.foo.svc.cluster.local", port: 9000 } },
];
const SEED = 20261122;

type Mesh = Required<Pick<EngineOptions, "trustDomain" | "trustDomainAliases" | "rootNamespace" | "pathNormalization">>;

/** Corpus cases weft accepts, grouped by the MeshConfig they need (one istiod per group). */
function groups(): { key: string; mesh: Mesh; cases: CorpusCase[] }[] {
  const out = new Map<string, { key: string; mesh: Mesh; cases: CorpusCase[] }>();
  for (const { cases } of corpus) {
    for (const c of cases) {
      if (c.invalid || authorizationPoliciesFromYaml(c.policies).diagnostics.some((d) => d.severity === "error")) continue;
      const o = c.options ?? {};
      const mesh: Mesh = {
        trustDomain: o.trustDomain ?? "cluster.local",
        trustDomainAliases: o.trustDomainAliases ?? [],
        rootNamespace: o.rootNamespace ?? "istio-system",
        pathNormalization: o.pathNormalization ?? "BASE",
      };
      const key = JSON.stringify(mesh);
      if (!out.has(key)) out.set(key, { key, mesh, cases: [] });
      out.get(key)!.cases.push(c);
    }
  }
  return [...out.values()];
}

const workloadKey = (d: AuthzRequest["destination"]) => JSON.stringify([d.namespace, Object.entries(d.labels ?? {}).sort()]);
const policyDocs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } })
  .filter((d) => d?.kind === "AuthorizationPolicy");

const totals = {
  istiodStarts: 0, cases: 0, policies: 0, requests: 0, agreements: 0, istiodDenied: 0, customAsked: 0, variants: 0, variantAgreements: 0,
  refusedByApiServer: [] as string[], problems: [] as string[], disagreements: [] as { request: string; weft: string; istiod: string }[],
};
/** RBAC policy names weft's own translator (control/xds/translate) gives the same workload, for comparison. */
function translatorPolicies(yaml: string, mesh: Mesh, d: AuthzRequest["destination"]): Map<string, string> {
  const model = {
    trustDomain: mesh.trustDomain, trustDomainAliases: mesh.trustDomainAliases, rootNamespace: mesh.rootNamespace,
    services: [], workloads: [], clusters: [], virtualHosts: [], authorization: irPolicies(yaml).policies, requestAuthentication: [], peerAuthentication: [],
  } as unknown as MeshModel;
  const selected = policiesForWorkload(model, { id: "x", name: "x", namespace: d.namespace, labels: d.labels ?? {}, serviceAccount: "default", identity: "", addresses: [] });
  const providers = Object.fromEntries(PROVIDERS.map((p) => [p.name, { cluster: `outbound|9000||${p.name}` }]));
  return rbacPolicies(authzHttpFilters(selected, model, { providers }).map((f) => ({ config: f.configType.value })));
}

/** Policy names that differ between istiod's HTTP RBAC filters and weft's translator's (reported, not asserted). */
const nameDiffs: string[] = [];
/** Policies both name alike: how many have the same JSON (permissions and principals), and the others. */
const sameShape = { same: 0, different: [] as string[] };

const random = { policySets: 0, policies: 0, requests: 0, agreements: 0, istiodDenied: 0, refusedByApiServer: 0, refusedByWeftOnly: 0 };

describe.skipIf(!ready)("istio: decision parity between weft's engine and istiod's RBAC", () => {
  let cluster: KubernetesHandle;
  let applier: ReturnType<typeof createPolicyApplier>;
  let generation = 0;
  let pods = 0;

  beforeAll(async () => {
    cluster = await kubernetes.start();
    const api = apiFor(cluster);
    await ensureCrds(api, istioCrds());
    applier = createPolicyApplier(api);
    for (const ns of ["istio-system", "foo"]) await applier.ensureNamespace(ns);
    await api.request("POST", "/api/v1/namespaces/foo/services", {
      body: { metadata: { name: "ext-authz" }, spec: { selector: { app: "ext-authz" }, ports: [{ name: "http", port: 8000 }, { name: "grpc", port: 9000 }] } },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    // The numbers docs/istio.md quotes ("Decision parity with istiod").
    const { refusedByApiServer, problems, disagreements, ...counts } = totals;
    console.log(`rbac parity (corpus): ${JSON.stringify({ ...counts, refusedByApiServer: refusedByApiServer.length, problems: problems.length, disagreements: disagreements.length })}`);
    console.log(`rbac parity (random, seed ${SEED}): ${JSON.stringify(random)}`);
    for (const r of refusedByApiServer) console.log(`rbac parity: refused by the API server: ${r}`);
    console.log(`rbac parity: ${nameDiffs.length} workloads where weft's translator names RBAC policies differently from istiod`);
    for (const d of nameDiffs.slice(0, 12)) console.log(`rbac parity: names: ${d}`);
    console.log(`rbac parity: policies named alike by both: ${sameShape.same} with the same JSON, ${sameShape.different.length} different`);
    for (const d of sameShape.different.slice(0, 12)) console.log(`rbac parity: shape: ${d}`);
  });

  async function startIstiod(mesh: Partial<Mesh>): Promise<IstiodHandle> {
    totals.istiodStarts++;
    return istio.start({
      kubeconfig: cluster.kubeconfigPath,
      meshConfig: {
        ...(mesh.trustDomain ? { trustDomain: mesh.trustDomain, trustDomainAliases: mesh.trustDomainAliases } : {}),
        ...(mesh.rootNamespace ? { rootNamespace: mesh.rootNamespace } : {}),
        pathNormalization: { normalization: mesh.pathNormalization ?? "BASE" },
        extensionProviders: PROVIDERS,
      },
      // Istio config from the API server, not from the peer's config directory.
      extraArgs: ["--configDir="],
      env: { PILOT_DEBOUNCE_AFTER: "20ms", PILOT_DEBOUNCE_MAX: "500ms" },
    });
  }

  /** Applies `yaml` plus a new marker; the API server's refusal, or the marker's name. */
  async function apply(yaml: string, rootNamespace: string): Promise<{ refused: string } | { marker: string }> {
    const marker = `weft-sync-${++generation}`;
    const refused = await applier.replace(policyDocs(yaml), {
      apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: marker, namespace: rootNamespace },
      spec: { action: "AUDIT", rules: [{ to: [{ operation: { ports: ["1"] } }] }] },
    });
    return refused === null ? { marker } : { refused };
  }

  async function syncedAuthz(istiod: IstiodHandle, d: AuthzRequest["destination"], marker: string): Promise<InboundAuthz> {
    const w: SidecarWorkload = { namespace: d.namespace, labels: d.labels ?? {}, ip: d.ip ?? "10.0.0.10", pod: `w${++pods}` };
    const deadline = Date.now() + 60_000;
    for (;;) {
      const authz = inboundAuthz(await fetchListeners(istiod.grpcAddr, w));
      if ([...authz.policyNames].some((n) => n.includes(`-policy[${marker}]-`))) return authz;
      if (Date.now() > deadline) throw new Error(`istiod never pushed ${marker} to ${w.pod}.${w.namespace} (policies: ${[...authz.policyNames].join(", ")})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const chainsOf = (authz: InboundAuthz) => ({
    http: compileEnvoyAuthzChain(authz.http, { kind: "http", pathNormalization: authz.pathNormalization }),
    tcp: compileEnvoyAuthzChain(authz.tcp, { kind: "network", pathNormalization: authz.pathNormalization }),
  });

  for (const g of groups()) {
    it(`corpus with mesh ${g.key}: ${g.cases.length} cases`, async () => {
      const istiod = await startIstiod(g.mesh);
      const seen = { problems: totals.problems.length, disagreements: totals.disagreements.length };
      try {
        for (const c of g.cases) {
          const applied = await apply(c.policies, g.mesh.rootNamespace);
          if ("refused" in applied) {
            totals.refusedByApiServer.push(`${c.name}: ${applied.refused}`);
            continue;
          }
          totals.cases++;
          totals.policies += policyDocs(c.policies).length;
          const engine = authorizerFromYaml(c.policies, c.options);
          const byWorkload = new Map<string, ReturnType<typeof chainsOf>>();
          for (const r of c.requests) {
            const key = workloadKey(r.request.destination);
            let chains = byWorkload.get(key);
            if (!chains) {
              const authz = await syncedAuthz(istiod, r.request.destination, applied.marker);
              expect(authz.pathNormalization).toBe(g.mesh.pathNormalization);
              chains = chainsOf(authz);
              const ours = translatorPolicies(c.policies, g.mesh, r.request.destination);
              const theirs = rbacPolicies(authz.http);
              const onlyIstiod = [...theirs.keys()].filter((n) => !ours.has(n) && !n.includes("-policy[weft-sync-"));
              const onlyWeft = [...ours.keys()].filter((n) => !theirs.has(n));
              for (const [name, json] of ours) {
                if (!theirs.has(name)) continue;
                if (theirs.get(name) === json) sameShape.same++;
                else sameShape.different.push(`${c.name}: ${name}\n  weft:   ${json}\n  istiod: ${theirs.get(name)}`);
              }
              if (onlyIstiod.length || onlyWeft.length) nameDiffs.push(`${c.name}: istiod only ${JSON.stringify(onlyIstiod)}, weft only ${JSON.stringify(onlyWeft)}`);
              totals.problems.push(...[...chains.http.problems, ...chains.tcp.problems].map((p) => `${c.name}: ${p}`));
              byWorkload.set(key, chains);
            }
            const probes = [{ name: r.name, request: r.request, variant: false }, ...requestVariants(r.request).map((v) => ({ name: `${r.name} [${v.name}]`, request: v.request, variant: true }))];
            for (const probe of probes) {
              const want = engine.check(probe.request, r.customDecision ? { customDecision: r.customDecision } : undefined);
              const got = (probe.request.http ? chains.http : chains.tcp).decide(probe.request, { customDecision: r.customDecision ?? "allow" });
              const agree = want.decision === got.decision && (want.custom !== null) === got.customAsked;
              if (probe.variant) {
                totals.variants++;
                if (agree) totals.variantAgreements++;
              } else {
                totals.requests++;
                if (got.customAsked) totals.customAsked++;
                if (got.decision === "deny") totals.istiodDenied++;
                if (agree) totals.agreements++;
              }
              if (!agree) {
                totals.disagreements.push({
                  request: `${c.name} / ${probe.name}`,
                  weft: `${want.decision}${want.custom !== null ? " (custom asked)" : ""} by ${want.policy ?? "none"}: ${want.reason}`,
                  istiod: `${got.decision}${got.customAsked ? " (custom asked)" : ""}${got.details ? ` [${got.details}]` : ""}`,
                });
              }
            }
          }
        }
      } finally {
        await istiod.stop();
      }
      expect(totals.problems.slice(seen.problems)).toEqual([]);
      expect(totals.disagreements.slice(seen.disagreements)).toEqual([]);
    }, 600_000);
  }

  it("random policy sets agree too (fast-check arbitraries, fixed seed)", async () => {
    const istiod = await startIstiod({});
    const seen = { problems: totals.problems.length, disagreements: totals.disagreements.length };
    const sets = fc.sample(policySet, { numRuns: 100, seed: SEED });
    const requests = fc.sample(randomRequest, { numRuns: 60, seed: SEED + 1 });
    try {
      for (const yaml of sets) {
        const weftErrors = authorizationPoliciesFromYaml(yaml).diagnostics.filter((d) => d.severity === "error");
        const applied = await apply(yaml, "istio-system");
        if ("refused" in applied || weftErrors.length) {
          if ("refused" in applied) random.refusedByApiServer++;
          else {
            random.refusedByWeftOnly++;
            totals.disagreements.push({ request: `random set refused by weft only:\n${yaml}`, weft: weftErrors.map((d) => d.message).join("; "), istiod: "accepted" });
          }
          continue;
        }
        random.policySets++;
        random.policies += policyDocs(yaml).length;
        const engine = authorizerFromYaml(yaml);
        const chains = chainsOf(await syncedAuthz(istiod, { namespace: "foo", labels: { app: "httpbin" }, ip: "10.0.0.10" }, applied.marker));
        totals.problems.push(...chains.http.problems, ...chains.tcp.problems);
        for (const r of requests) {
          const want = engine.check(r);
          const got = (r.http ? chains.http : chains.tcp).decide(r);
          random.requests++;
          if (got.decision === "deny") random.istiodDenied++;
          if (want.decision === got.decision) random.agreements++;
          else {
            totals.disagreements.push({
              request: `random set:\n${yaml}request: ${JSON.stringify(r)}`,
              weft: `${want.decision} by ${want.policy ?? "none"}: ${want.reason}`,
              istiod: `${got.decision}${got.details ? ` [${got.details}]` : ""}`,
            });
          }
        }
      }
    } finally {
      await istiod.stop();
    }
    expect(totals.problems.slice(seen.problems)).toEqual([]);
    expect(totals.disagreements.slice(seen.disagreements)).toEqual([]);
    expect(random.policySets).toBeGreaterThanOrEqual(50);
  }, 600_000);

  it("covered the corpus", () => {
    expect(totals.requests).toBeGreaterThanOrEqual(300);
    expect(totals.agreements).toBe(totals.requests);
    expect(totals.variants).toBeGreaterThanOrEqual(5 * totals.requests);
    expect(totals.variantAgreements).toBe(totals.variants);
  });
});
