/**
 * @module adapters/consul/catalog/trust
 * Trust between weft and Consul's Connect CA, both ways.
 * - Weft trusts Consul: `watchConsulRoots` follows `/v1/connect/ca/roots` with a blocking query and keeps
 *   a trust bundle for Consul's trust domain (`<cluster-id>.consul`) holding every root Consul lists
 *   (active and still-trusted old ones), so a rotation in Consul is followed without a gap.
 * - Consul trusts weft: `configureConsulCa` sets Consul's built-in CA provider (`consul`) to use weft's
 *   root certificate and key (`PUT /v1/connect/ca/configuration`, checked on Consul 1.22). Consul then
 *   cross-signs and rotates to that root, its leaves chain to weft's root, and weft SVIDs issued under
 *   the same root with Consul-form SPIFFE IDs (`spiffe://<cluster-id>.consul/ns/<ns>/dc/<dc>/svc/<svc>`)
 *   are accepted by Consul's proxies. (The other way — weft fetching a leaf from the agent's
 *   `/v1/agent/connect/ca/leaf/:service` — also works on 1.22 but is deprecated since 1.21; see docs/consul.md.)
 */
import { createTrustBundleSet, type TrustBundleSet } from "../../../core/identity/index.ts";
import { startBlockingWatch, type BlockingWatch, type BlockingWatchOptions, type WatchState } from "./blocking-watch.ts";
import type { ConsulClient } from "./client.ts";

export interface ConsulRoot {
  ID: string;
  Name?: string;
  RootCert: string;
  IntermediateCerts?: string[] | null;
  Active: boolean;
}

export interface ConsulRoots {
  ActiveRootID: string;
  TrustDomain: string;
  Roots: ConsulRoot[];
}

export interface RootsView {
  trustDomain: string;
  activeRootId: string;
  /** Root certificates (PEM), the active one first. */
  roots: string[];
  bundle: TrustBundleSet;
}

/** Consul's roots answer → a trust bundle for its trust domain. */
export function rootsToBundle(r: ConsulRoots, base: TrustBundleSet = createTrustBundleSet()): RootsView {
  const sorted = [...r.Roots].sort((a, b) => Number(b.ID === r.ActiveRootID) - Number(a.ID === r.ActiveRootID));
  let bundle = base.withoutTrustDomain(r.TrustDomain);
  for (const root of sorted) bundle = bundle.add(r.TrustDomain, root.RootCert);
  return { trustDomain: r.TrustDomain, activeRootId: r.ActiveRootID, roots: sorted.map((x) => x.RootCert.trim() + "\n"), bundle };
}

export interface RootsWatch {
  current(): RootsView | undefined;
  ready: Promise<void>;
  state(): WatchState;
  stop(): void;
}

/**
 * @example
 * const roots = watchConsulRoots(client, (view) => writeFile("consul-bundle.pem", view.roots.join("")));
 */
export function watchConsulRoots(client: ConsulClient, onChange: (view: RootsView) => void, opts: { waitMs?: number; watch?: Pick<BlockingWatchOptions<unknown>, "minIntervalMs" | "backoff" | "now" | "random" | "sleep">; log?: (l: string) => void } = {}): RootsWatch {
  let view: RootsView | undefined;
  let lastKey = "";
  const w: BlockingWatch = startBlockingWatch<ConsulRoots>({
    ...opts.watch,
    name: "connect/ca/roots",
    fetch: async (index, signal) => {
      const r = await client.get<ConsulRoots>("/v1/connect/ca/roots", { index, waitMs: opts.waitMs ?? 300_000, signal });
      return { index: r.index, value: r.body };
    },
    onChange: (roots) => {
      if (!roots?.TrustDomain || !Array.isArray(roots.Roots) || roots.Roots.length === 0) return; // keep the last good bundle
      const key = `${roots.TrustDomain}|${roots.ActiveRootID}|${roots.Roots.map((r) => r.ID).join(",")}`;
      if (key === lastKey) return;
      lastKey = key;
      view = rootsToBundle(roots);
      onChange(view);
    },
    onError: (err, n) => {
      if (n === 1) opts.log?.(`consul: CA roots: ${(err as Error).message}; keeping the last bundle`);
    },
  });
  return { current: () => view, ready: w.ready, state: w.state, stop: w.stop };
}

export interface CaConfigurationOptions {
  /** Weft's root certificate (PEM). */
  rootCertPem: string;
  /** Its private key (PEM; PKCS#8 or SEC1 — Consul 1.22 takes both). */
  rootKeyPem: string;
  /** Consul's leaf TTL (Go duration, default `72h`). */
  leafCertTtl?: string;
}

/** The body of `PUT /v1/connect/ca/configuration` that makes Consul's built-in CA issue from weft's root. */
export function caConfigurationBody(o: CaConfigurationOptions): Record<string, unknown> {
  return { Provider: "consul", Config: { PrivateKey: o.rootKeyPem, RootCert: o.rootCertPem, LeafCertTTL: o.leafCertTtl ?? "72h" } };
}

/**
 * Points Consul's built-in CA at weft's root (idempotent: nothing is written when Consul's active root
 * already is that certificate). Needs an ACL token with `operator = "write"` when ACLs are on.
 */
export async function configureConsulCa(client: ConsulClient, o: CaConfigurationOptions): Promise<{ changed: boolean; roots: ConsulRoots }> {
  const norm = (pem: string) => pem.replace(/\s+/g, "");
  const before = (await client.get<ConsulRoots>("/v1/connect/ca/roots")).body;
  const active = before.Roots.find((r) => r.ID === before.ActiveRootID);
  if (active && norm(active.RootCert) === norm(o.rootCertPem)) return { changed: false, roots: before };
  await client.put("/v1/connect/ca/configuration", caConfigurationBody(o));
  const after = (await client.get<ConsulRoots>("/v1/connect/ca/roots")).body;
  return { changed: true, roots: after };
}
