// A two-mesh fixture on one real `consul agent -dev`, shared by mesh.test.ts and bench/consul: Consul's
// side is an HTTP app `web` with Consul's own built-in proxy (`consul connect proxy -sidecar-for web`,
// upstream `weft-api`); weft's side is an HTTP app behind a weft proxy (`weft proxy --config`-style file,
// hot-reloaded) whose SVID is `spiffe://<cluster>.consul/ns/default/dc/dc1/svc/weft-api`, issued under weft's
// root (a `cluster.local` root), which Consul's built-in CA was configured with (the bridge's `trust.configureCa`). The Consul
// bridge runs both ways: `web`'s Connect endpoint comes into the registry, `weft-api` goes into Consul's
// catalog as a Connect-native service, Consul's roots become the proxy's bundle, and Consul's intentions
// become the proxy's rbac policy.

import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startConsulBridge, type ConsulBridge } from "../../adapters/consul/catalog/bridge.ts";
import { parseConsulBridgeConfig } from "../../adapters/consul/catalog/config.ts";
import type { IntentionsView } from "../../adapters/consul/catalog/intentions-watch.ts";
import { consulServiceId, consulSidecarConfig, upstreamEndpoints } from "../../adapters/consul/catalog/sidecar-config.ts";
import { createCertificateAuthority } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../control/ca/keys.ts";
import { createRegistry, type Registry } from "../../control/registry/registry.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { runProxy, type RunningProxy } from "../../proxy/node/run.ts";
import consul, { type ConsulHandle } from "../peers/consul/peer.ts";
import { freePorts, spawnPeer, waitFor } from "../peers/lib.ts";
import type { SpawnedProcess } from "../peers/types.ts";

export interface MeshFixture {
  agent: ConsulHandle;
  bridge: ConsulBridge;
  registry: Registry;
  trustDomain: string;
  /** Weft's outbound listener to Consul's `web` (through Consul's proxy). */
  weftToWeb: string;
  /** Same endpoints, but the cluster expects `svc/db`: weft must refuse `web`'s certificate. */
  weftToWrongId: string;
  /** Consul's proxy upstream listener to `weft-api` (through weft's proxy). */
  webToWeft: string;
  accessLog: string[];
  /** Output of Consul's built-in proxy (its authorization decisions name the caller's service). */
  consulProxyLog: string;
  proxy: RunningProxy;
  /** Resolves when the weft proxy has loaded a config built from this intentions view (or a later one). */
  intentionsApplied(index: number): Promise<void>;
  consulCli(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function app(name: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    // Close after each answer so that each request through Consul's L4 proxy is a new authorized connection.
    res.writeHead(200, { "content-type": "text/plain", connection: "close" });
    res.end(`${name} says hi (${req.method} ${req.url})`);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** `agentHcl`: extra agent config, e.g. `limits { http_max_conns_per_client = 4000 }` for many blocking queries. */
export async function startMeshFixture(log: (l: string) => void = () => undefined, agentHcl: string[] = []): Promise<MeshFixture> {
  const dir = mkdtempSync(join(tmpdir(), "weft-consul-mesh-"));
  const [webPort, sidecarPort, upstreamPort, apiPort, inboundPort, outPort, wrongPort] = (await freePorts(7)) as [number, number, number, number, number, number, number];
  const agent = await consul.start({ hcl: agentHcl });
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => agent.stop()];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const roots0 = (await (await fetch(`${agent.url}/v1/connect/ca/roots`)).json()) as { TrustDomain: string };
    const trustDomain = roots0.TrustDomain;
    // Weft's mesh CA (trust domain cluster.local); a second issuer under the same root signs SVIDs in
    // Consul's trust domain, so one weft root is trusted by both meshes.
    const weftCa = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const state = await weftCa.exportState();
    const weftRoot = { certPem: state.roots[0]!.certPem, keyPem: state.roots[0]!.keyPem! };
    const ca = await createCertificateAuthority({ trustDomain, root: weftRoot });

    // The workload's SVID, Consul form, from weft's CA.
    const keys = await generateKeyPair();
    const svid = await ca.issue({ spiffeId: consulServiceId(trustDomain, "dc1", "weft-api"), publicKey: keys.publicKey });
    const files = { certificateChainFile: join(dir, "svid.crt"), privateKeyFile: join(dir, "svid.key"), trustedCaFile: join(dir, "bundle.pem") };
    writeFileSync(files.certificateChainFile, svid.chainPem.slice(0, -1).join(""));
    writeFileSync(files.privateKeyFile, await privateKeyToPem(keys.privateKey));

    const registry = createRegistry();
    registry.setSource("weft", {
      services: [{ id: "default/weft-api", name: "weft-api", namespace: "default", hosts: ["weft-api.default"], ports: [{ port: 80, protocol: "http" }] }],
      workloads: [],
      endpoints: [{ service: "default/weft-api", port: 80, endpoints: [{ address: "127.0.0.1", port: inboundPort, health: "healthy", identity: svid.spiffeId }] }],
    });
    const { config } = parseConsulBridgeConfig({
      address: agent.url, sync: { toWeft: true, toConsul: true }, import: { namespace: "consul" },
      export: { connect: "native", ttl: "10s" }, trust: { followRoots: true, configureCa: true }, wait: "30s", minInterval: 10,
    });
    let intentions: IntentionsView | undefined;
    let render: () => void = () => undefined;
    let bundleWritten!: () => void;
    const bundleReady = new Promise<void>((resolve) => (bundleWritten = resolve));
    const bridge = startConsulBridge({
      config: config!, registry, weftRoot: async () => weftRoot, log,
      onRoots: (v) => {
        // Consul's roots (weft's root among them once Consul's CA issues from it) are the proxy's bundle.
        writeFileSync(`${files.trustedCaFile}.tmp`, v.roots.join(""));
        renameSync(`${files.trustedCaFile}.tmp`, files.trustedCaFile);
        bundleWritten();
      },
      onIntentions: (v) => {
        intentions = v;
        render();
      },
    });
    cleanups.push(() => bridge.stop({ deregister: true }));
    await bridge.ready();
    await bundleReady;
    await waitFor(async () => bridge.roots()?.roots[0]?.replace(/\s/g, "") === weftRoot.certPem.replace(/\s/g, ""), { what: "Consul's active root to be weft's", timeoutMs: 30_000 });

    // Consul's side: `web` with a sidecar whose upstream is weft-api, and Consul's own proxy.
    const web = await app("web", webPort);
    cleanups.push(() => new Promise((r) => web.close(r)));
    const weftApi = await app("weft-api", apiPort);
    cleanups.push(() => new Promise((r) => weftApi.close(r)));
    const reg = await fetch(`${agent.url}/v1/agent/service/register`, {
      method: "PUT",
      body: JSON.stringify({ Name: "web", Port: webPort, Address: "127.0.0.1", Connect: { SidecarService: { Port: sidecarPort, Proxy: { Upstreams: [{ DestinationName: "weft-api", LocalBindPort: upstreamPort, LocalBindAddress: "127.0.0.1" }] } } } }),
    });
    if (reg.status !== 200) throw new Error(`register web: ${reg.status} ${await reg.text()}`);
    const proxyLog = join(dir, "consul-connect-proxy.log");
    const consulProxy: SpawnedProcess = spawnPeer(agent.bin, ["connect", "proxy", "-sidecar-for", "web", "-http-addr", agent.httpAddr, "-log-level", "debug"], { logPath: proxyLog });
    cleanups.push(() => consulProxy.stop());

    // Weft's side: wait for web's Connect endpoint (Consul's proxy, passing its TCP check), then start the proxy.
    const webId = "consul/web";
    await waitFor(async () => upstreamEndpoints(registry.snapshot(), webId).length > 0, { what: "web's Connect endpoint in weft's registry", timeoutMs: 60_000, logPath: proxyLog });
    const accessLog: string[] = [];
    const configFile = join(dir, "weft-proxy.json");
    let appliedIndex = -1;
    let pendingIndex = -1;
    let lastText = "";
    const waiters: { index: number; resolve: () => void }[] = [];
    render = () => {
      const endpoints = upstreamEndpoints(registry.snapshot(), webId);
      const text = JSON.stringify(consulSidecarConfig({
        service: "weft-api", trustDomain, datacenter: "dc1", inbound: `127.0.0.1:${inboundPort}`, app: `127.0.0.1:${apiPort}`,
        upstreams: [{ service: "web", listen: `127.0.0.1:${outPort}`, endpoints }, { service: "db", listen: `127.0.0.1:${wrongPort}`, endpoints }],
        files, accessLog: true, ...(intentions ? { intentions: intentions.policy } : {}),
      }), null, 2);
      if (text === lastText) return;
      lastText = text;
      writeFileSync(`${configFile}.tmp`, text);
      renameSync(`${configFile}.tmp`, configFile);
      pendingIndex = intentions?.index ?? 0;
    };
    render();
    const proxy = await runProxy({ filters: httpFilters, configFile, log, accessLog: (l) => accessLog.push(l), watch: { debounceMs: 20, pollMs: 200 } });
    appliedIndex = pendingIndex;
    cleanups.push(() => proxy.stop());
    let seenReloads = 0;
    const poll = setInterval(() => {
      if (proxy.reloads.ok !== seenReloads) {
        seenReloads = proxy.reloads.ok;
        appliedIndex = pendingIndex;
      }
      for (const w of waiters.splice(0)) if (appliedIndex >= w.index) w.resolve(); else waiters.push(w);
    }, 10);
    cleanups.push(() => clearInterval(poll));
    const unsubscribe = registry.subscribe(() => render());
    cleanups.push(unsubscribe);

    return {
      agent, bridge, registry, trustDomain, accessLog, proxy, consulProxyLog: proxyLog,
      weftToWeb: `http://127.0.0.1:${outPort}`,
      weftToWrongId: `http://127.0.0.1:${wrongPort}`,
      webToWeft: `http://127.0.0.1:${upstreamPort}`,
      intentionsApplied: (index) => new Promise((resolve) => waiters.push({ index, resolve })),
      consulCli: async (args) => {
        const out = join(dir, `cli-${Date.now()}.log`);
        const p = spawnPeer(agent.bin, args, { logPath: out, env: { CONSUL_HTTP_ADDR: agent.httpAddr } });
        const code = await p.exited;
        const text = readFileSync(out, "utf8");
        if (code !== 0) throw new Error(`consul ${args.join(" ")}: exit ${code}: ${text}`);
        return text;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
