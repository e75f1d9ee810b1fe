/**
 * @module adapters/kubernetes/controller
 * Kubernetes discovery: follows Services, EndpointSlices, Pods and Nodes (cluster-wide or in a list of
 * namespaces) and publishes them to the registry as one source, and follows Istio's custom resources
 * and mirrors the valid ones into the config store. One reflector per collection does list + watch,
 * resync after 410 Gone and backoff with jitter; this controller only keeps the collections, converts
 * them (`conversion.ts`, `istio-objects.ts`) and publishes. The registry gets nothing until every
 * discovery collection has been listed once (no half views), and a failing API server never empties
 * it: the last good view stays, and the problem is recorded with `setSourceError` and in `status()`.
 * An Istio object that fails validation is reported with kind/name/field and its last valid version
 * stays in the store.
 */
import type { Registry } from "../../control/registry/registry.ts";
import { canonicalJson } from "../../control/store/store.ts";
import { StoreValidationError, type ConfigStore, type ResourceKey } from "../../control/store/types.ts";
import { formatDiagnostic, type Diagnostic } from "../../core/schema/index.ts";
import { resourcePath, type KubeApi, type KubeObject, type ResourceType } from "./api.ts";
import type { BackoffOptions } from "./backoff.ts";
import { registryFromKubernetes, type Loss } from "./conversion.ts";
import { istioResourceTypes, SOURCE_ANNOTATION, storeObjectFromKubernetes } from "./istio-objects.ts";
import { createReflector, type Reflector, type ReflectorStatus } from "./reflector.ts";

export interface KubernetesDiscoveryOptions {
  api: KubeApi;
  registry: Registry;
  /** Where Istio's resources are mirrored; omit to follow discovery only. */
  store?: ConfigStore;
  /** Namespaces to follow (default: all). Nodes are always cluster-wide. */
  namespaces?: string[];
  trustDomain?: string;
  clusterDomain?: string;
  /** Registry source name and store annotation value (default `kubernetes`). */
  sourceName?: string;
  /** Istio kinds to mirror (default the eight of `istioResourceTypes`; `[]` for none). */
  istioKinds?: readonly ResourceType[];
  /** Follow Nodes for region/zone labels (default true; needs cluster-wide read on nodes). */
  watchNodes?: boolean;
  backoff?: BackoffOptions;
  random?: () => number;
  now?: () => number;
  /** Coalesce bursts of events before publishing (default 10 ms). */
  debounceMs?: number;
  watchTimeoutSeconds?: number;
  log?: (line: string) => void;
}

export interface DiscoveryStatus {
  source: string;
  /** `starting` until every collection was listed once; `degraded` while any watch is failing. */
  state: "starting" | "synced" | "degraded";
  resources: ReflectorStatus[];
  services: number;
  endpoints: number;
  /** Istio objects not stored because they are invalid (kind/name, field, message). */
  invalid: Diagnostic[];
  /** Warnings on stored Istio objects (e.g. an unknown `when` key, which Istio ignores silently). */
  warnings: Diagnostic[];
  losses: Loss[];
  storeError?: string;
}

export interface KubernetesDiscovery {
  status(): DiscoveryStatus;
  /** Resolves once every collection has been listed and published. */
  synced(): Promise<void>;
  /** Restarts every watch (or those whose path contains `pathPart`) from `resourceVersion`. */
  restartWatches(resourceVersion: string, pathPart?: string): void;
  stop(): Promise<void>;
}

const SERVICES: ResourceType = { group: "", version: "v1", kind: "Service", plural: "services" };
const SLICES: ResourceType = { group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices" };
const PODS: ResourceType = { group: "", version: "v1", kind: "Pod", plural: "pods" };
const NODES: ResourceType = { group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false };

interface Collection {
  type: ResourceType;
  istio: boolean;
  /** Not needed to publish (Nodes only add locality; RBAC may forbid them). */
  optional: boolean;
  reflector: Reflector;
  objects: Map<string, KubeObject>;
}

const objKey = (o: KubeObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/**
 * @example
 * const discovery = startKubernetesDiscovery({ api: createKubeApi(loadKubeConfig()), registry, store });
 * await discovery.synced();
 */
export function startKubernetesDiscovery(opts: KubernetesDiscoveryOptions): KubernetesDiscovery {
  const source = opts.sourceName ?? "kubernetes";
  const log = opts.log ?? (() => undefined);
  const debounceMs = opts.debounceMs ?? 10;
  const istioTypes = opts.store ? (opts.istioKinds ?? istioResourceTypes) : [];
  const scopes: (string | undefined)[] = opts.namespaces?.length ? opts.namespaces : [undefined];
  const collections: Collection[] = [];
  let losses: Loss[] = [];
  let invalid = new Map<string, Diagnostic[]>();
  let warnings = new Map<string, Diagnostic[]>();
  let storeError: string | undefined;
  let published = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let storeSync: Promise<void> = Promise.resolve();
  let stopped = false;
  let counts = { services: 0, endpoints: 0 };
  let resolveSynced!: () => void;
  const syncedPromise = new Promise<void>((r) => (resolveSynced = r));

  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush();
    }, debounceMs);
  };

  const reportErrors = () => {
    const problems = collections
      .map((c) => c.reflector.status())
      .filter((s) => s.lastError && !(s.missing && collections.find((c) => c.reflector.status().path === s.path)?.istio))
      .map((s) => `${s.path}: ${s.lastError}`);
    opts.registry.setSourceError(source, problems.length ? problems.join("\n") : undefined);
  };

  const add = (type: ResourceType, namespace: string | undefined, istio: boolean, optional = false) => {
    const objects = new Map<string, KubeObject>();
    const reflector = createReflector({
      api: opts.api,
      path: resourcePath(type, namespace),
      onReplace(items) {
        objects.clear();
        for (const o of items) objects.set(objKey(o), { ...o, kind: o.kind ?? type.kind, apiVersion: o.apiVersion ?? (type.group ? `${type.group}/${type.version}` : type.version) });
        schedule();
      },
      onEvent(type_, o) {
        if (type_ === "DELETED") objects.delete(objKey(o));
        else objects.set(objKey(o), o);
        schedule();
      },
      onStatus: () => reportErrors(),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
    });
    collections.push({ type, istio, optional, reflector, objects });
  };

  for (const ns of scopes) for (const t of [SERVICES, SLICES, PODS]) add(t, ns, false);
  if (opts.watchNodes !== false) add(NODES, undefined, false, true);
  for (const ns of scopes) for (const t of istioTypes) add(t, ns, true);

  const all = (kind: string) => collections.filter((c) => c.type.kind === kind).flatMap((c) => [...c.objects.values()]);

  const publishRegistry = () => {
    const core = collections.filter((c) => !c.istio && !c.optional);
    if (!core.every((c) => c.reflector.status().synced)) return;
    const result = registryFromKubernetes({ services: all("Service"), endpointSlices: all("EndpointSlice"), pods: all("Pod"), nodes: all("Node") },
      { ...(opts.trustDomain ? { trustDomain: opts.trustDomain } : {}), ...(opts.clusterDomain ? { clusterDomain: opts.clusterDomain } : {}) });
    losses = result.losses;
    counts = { services: result.snapshot.services.length, endpoints: result.snapshot.endpoints.reduce((n, e) => n + e.endpoints.length, 0) };
    opts.registry.setSource(source, result.snapshot);
    reportErrors();
    published = true;
  };

  const syncStore = async (store: ConfigStore) => {
    const nextInvalid = new Map<string, Diagnostic[]>();
    const nextWarnings = new Map<string, Diagnostic[]>();
    const puts: Record<string, unknown>[] = [];
    const deletes: ResourceKey[] = [];
    for (const type of istioTypes) {
      const cs = collections.filter((c) => c.istio && c.type === type);
      if (!cs.every((c) => c.reflector.status().synced)) continue; // never delete on a partial view
      const desired = new Set<string>();
      for (const c of cs) {
        for (const o of c.objects.values()) {
          const key: ResourceKey = { group: type.group, kind: type.kind, namespace: o.metadata?.namespace || "default", name: o.metadata?.name ?? "" };
          const id = `${key.group}/${key.kind}/${key.namespace}/${key.name}`;
          desired.add(id);
          const r = storeObjectFromKubernetes(o, source);
          if (!r.object) {
            nextInvalid.set(id, r.diagnostics);
            if (canonicalJson(invalid.get(id)) !== canonicalJson(r.diagnostics)) for (const d of r.diagnostics) log(`kubernetes: rejected ${formatDiagnostic(d)}`);
            continue;
          }
          if (r.diagnostics.length) {
            nextWarnings.set(id, r.diagnostics);
            if (canonicalJson(warnings.get(id)) !== canonicalJson(r.diagnostics)) for (const d of r.diagnostics) log(`kubernetes: ${formatDiagnostic(d)}`);
          }
          if (canonicalJson(store.get(key)?.object) !== canonicalJson(r.object)) puts.push(r.object);
        }
      }
      for (const r of store.list({ kind: type.kind, group: type.group })) {
        const ann = (r.object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
        if (ann?.[SOURCE_ANNOTATION] === source && !desired.has(`${r.group}/${r.kind}/${r.namespace}/${r.name}`)) deletes.push({ group: r.group, kind: r.kind, namespace: r.namespace, name: r.name });
      }
    }
    invalid = nextInvalid;
    warnings = nextWarnings;
    try {
      if (puts.length) {
        try {
          await store.apply(puts, { actor: `kubernetes:${source}` });
        } catch (err) {
          if (!(err instanceof StoreValidationError)) throw err;
          // The store validates differently: store what it accepts, report the rest.
          for (const p of puts) {
            await store.apply([p], { actor: `kubernetes:${source}` }).catch((e: unknown) => {
              if (!(e instanceof StoreValidationError)) throw e;
              const m = p.metadata as { namespace?: string; name?: string };
              invalid.set(`${String(p.apiVersion)}/${String(p.kind)}/${m.namespace}/${m.name}`, e.diagnostics);
            });
          }
        }
      }
      if (deletes.length) await store.delete(deletes, { actor: `kubernetes:${source}` });
      storeError = undefined;
    } catch (err) {
      storeError = `config store: ${(err as Error).message}`;
      log(`kubernetes: ${storeError}`);
    }
  };

  const flush = () => {
    if (stopped) return;
    publishRegistry();
    const store = opts.store;
    if (store) storeSync = storeSync.then(() => (stopped ? undefined : syncStore(store)));
    if (published && collections.every((c) => c.reflector.status().synced || c.optional || (c.istio && c.reflector.status().missing))) {
      void storeSync.then(() => resolveSynced());
    }
  };

  for (const c of collections) c.reflector.start();

  return {
    status() {
      const resources = collections.map((c) => c.reflector.status());
      const failing = resources.some((s, i) => s.lastError && !(s.missing && collections[i]!.istio));
      return {
        source,
        state: !published ? "starting" : failing ? "degraded" : "synced",
        resources,
        ...counts,
        invalid: [...invalid.values()].flat(),
        warnings: [...warnings.values()].flat(),
        losses,
        ...(storeError ? { storeError } : {}),
      };
    },
    synced: () => syncedPromise,
    restartWatches(resourceVersion, pathPart) {
      for (const c of collections) if (!pathPart || c.reflector.status().path.includes(pathPart)) c.reflector.restartWatch(resourceVersion);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      for (const c of collections) c.reflector.stop();
      await storeSync;
    },
  };
}
