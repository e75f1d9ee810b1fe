/**
 * @module control/node/control-plane
 * Assembles the control plane on Node: the config store on a durable file log in the data directory,
 * the CA (its state beside the store), join tokens, the registry fed by the file adapter and by the
 * ServiceEntry/WorkloadEntry objects in the store (and by Consul, when a `consul:` bridge is configured),
 * extensions (the xDS server plugs in here), and the
 * admin API with its UI. `stop()` shuts everything down in reverse order and releases the store lock.
 */
import { startConsulBridge, type ConsulBridge } from "../../adapters/consul/catalog/bridge.ts";
import type { ConsulBridgeConfig } from "../../adapters/consul/catalog/config.ts";
import { registryFromIstio } from "../../adapters/file/conversion.ts";
import { startFileSource, type FileSource } from "../../adapters/file/controller.ts";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { validateResource } from "../../core/resources/kind.ts";
import { createAdminApp } from "../admin/app.ts";
import type { MeshStatusProvider } from "../admin/mesh-status.ts";
import type { CertificateAuthority } from "../ca/authority.ts";
import { createJoinTokenStore, type JoinTokenStore } from "../ca/join-tokens.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createConfigStore } from "../store/store.ts";
import type { ConfigStore } from "../store/types.ts";
import { startAdminServer } from "./admin-server.ts";
import { openCaState } from "./ca-state-file.ts";
import { createFileLog } from "./file-log.ts";
import { createNodeFileHost } from "./file-host.ts";

/** What an extension (e.g. the xDS server) gets to work with. */
export interface ControlPlaneParts {
  store: ConfigStore;
  registry: Registry;
  ca: CertificateAuthority;
  joinTokens: JoinTokenStore;
  trustDomain: string;
  log: (line: string) => void;
}

/** A running extension. `mesh` feeds the admin API's view of connected proxies. */
export interface RunningExtension {
  name: string;
  /** Where it listens, printed at start. */
  url?: string;
  mesh?: MeshStatusProvider;
  close(): Promise<void>;
}

/**
 * Starts a part of the control plane once the store, CA and registry are up. The xDS server is one:
 * `extensions: [(parts) => startXdsServer({ ...parts, host, port })]`.
 */
export type ControlPlaneExtension = (parts: ControlPlaneParts) => Promise<RunningExtension>;

export interface ControlPlaneOptions {
  dataDir: string;
  trustDomain?: string;
  /** A root to issue from (PEM cert and PKCS#8 key); generated on first start when absent. */
  caRoot?: { certPem: string; keyPem: string };
  /** Files or directories of ServiceEntry/WorkloadEntry resources, watched. */
  discovery?: string[];
  admin: { host: string; port: number; token: string };
  extensions?: ControlPlaneExtension[];
  /** The Consul bridge (the `consul:` section of the control-plane config); its state is in `/v1/registry/sources`. */
  consul?: ConsulBridgeConfig;
  log?: (line: string) => void;
}

export interface RunningControlPlane extends ControlPlaneParts {
  adminUrl: string;
  caOrigin: "restored" | "supplied" | "generated";
  extensions: RunningExtension[];
  consul?: ConsulBridge;
  stop(): Promise<void>;
}

const STORE_SOURCE = "store";

/** Publishes the store's ServiceEntry and WorkloadEntry objects to the registry, now and on every change. */
function bridgeStoreToRegistry(store: ConfigStore, registry: Registry, trustDomain: string): () => void {
  const publish = () => {
    const objects = [...store.list({ kind: "ServiceEntry" }), ...store.list({ kind: "WorkloadEntry" })].map((r) => r.object);
    registry.setSource(STORE_SOURCE, registryFromIstio(objects, trustDomain).snapshot);
  };
  publish();
  return store.watch(store.revision(), (events) => {
    if (events.some((e) => e.resource.kind === "ServiceEntry" || e.resource.kind === "WorkloadEntry")) publish();
  });
}

/**
 * @example
 * const cp = await startControlPlane({ dataDir: ".weft/control", admin: { host: "127.0.0.1", port: 15000, token } });
 * console.log(`${cp.adminUrl}/ui`);
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = opts.log ?? (() => undefined);
  const trustDomain = opts.trustDomain ?? "cluster.local";
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log(`shutdown: ${(err as Error).message}`);
      }
    }
  };
  try {
    const store = await createConfigStore({ log: await createFileLog(opts.dataDir), validate: (o) => validateResource(o, allKinds) });
    cleanups.push(() => store.close());
    const { ca, origin } = await openCaState(opts.dataDir, { trustDomain, ...(opts.caRoot ? { root: opts.caRoot } : {}) });
    const joinTokens = createJoinTokenStore();
    const registry = createRegistry();
    cleanups.push(bridgeStoreToRegistry(store, registry, trustDomain));
    let files: FileSource | undefined;
    if (opts.discovery && opts.discovery.length > 0) {
      files = await startFileSource({ paths: opts.discovery, registry, host: createNodeFileHost(), trustDomain });
      const source = files;
      cleanups.push(() => source.stop());
    }
    let consul: ConsulBridge | undefined;
    if (opts.consul) {
      const bridge = startConsulBridge({
        config: opts.consul, registry, log,
        weftRoot: async () => {
          const root = (await ca.exportState()).roots[0];
          if (!root?.keyPem) throw new Error("the CA's root key is not available");
          return { certPem: root.certPem, keyPem: root.keyPem };
        },
      });
      consul = bridge;
      cleanups.push(() => bridge.stop());
    }
    const parts: ControlPlaneParts = { store, registry, ca, joinTokens, trustDomain, log };
    const extensions: RunningExtension[] = [];
    for (const start of opts.extensions ?? []) {
      const ext = await start(parts);
      extensions.push(ext);
      cleanups.push(() => ext.close());
    }
    const providers = extensions.flatMap((e) => (e.mesh ? [e.mesh] : []));
    const app = createAdminApp({
      adminToken: opts.admin.token,
      store, registry, ca, joinTokens,
      mesh: { nodes: () => providers.flatMap((p) => p.nodes()) },
      ...(files || consul ? { sourceDetails: () => ({ ...(files ? { files: files.status() } : {}), ...(consul ? { consul: consul.status() } : {}) }) } : {}),
      onInternalError: (err, method, path) => log(`admin API: ${method} ${path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    });
    const server = await startAdminServer(app, { host: opts.admin.host, port: opts.admin.port });
    cleanups.push(() => server.close());
    return { ...parts, adminUrl: server.url, caOrigin: origin, extensions, ...(consul ? { consul } : {}), stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
