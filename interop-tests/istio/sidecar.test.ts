// A weft proxy configured by the real istiod (pilot-discovery 1.31-dev) as a sidecar: istiod runs against a
// real kube-apiserver with Istio's CRDs (Istio config from the API server, `--configDir=`). A Service and an
// EndpointSlice put the workload at 10.0.0.10 (the API server refuses loopback endpoints); a Sidecar resource
// gives it an inbound listener bound to 127.0.0.1 (capture mode NONE: weft does not intercept traffic) that
// forwards to a local HTTP server; an AuthorizationPolicy denies one path. `runXdsProxy` connects to istiod's
// plaintext xDS port with the node identity and metadata an istio-agent sends. The suite asserts the applied
// config, the exact list of what weft does not serve (`/xds_status`), a request reaching the upstream and the
// policy's 403 (see docs/istio.md, "Weft proxy as an Istio sidecar: status").
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCrds } from "../../adapters/kubernetes/crds.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { runXdsProxy, type RunningXdsProxy } from "../../proxy/node/xds-run.ts";
import istio, { type IstiodHandle } from "../peers/istio/peer.ts";
import kubernetes, { type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { requirePeers } from "../peers/suite.ts";
import { apiFor, istioCrds } from "../kubernetes/helpers.ts";
import { sidecarNode, type SidecarWorkload } from "./rbac-parity-helpers.ts";

const { ready } = await requirePeers(import.meta.url, istio, kubernetes);

const NS = "shop";

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
const WORKLOAD: SidecarWorkload = { namespace: NS, labels: { app: "web" }, ip: "10.0.0.10", pod: "web-0", serviceAccount: "web" };

describe.skipIf(!ready)("istio: a weft proxy configured by istiod as a sidecar", () => {
  let cluster: KubernetesHandle;
  let istiod: IstiodHandle;
  let upstream: Server;
  let proxy: RunningXdsProxy;
  let inboundPort = 0;
  const logs: string[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => res.end(`upstream saw ${req.url}`));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const port = (upstream.address() as AddressInfo).port;
    cluster = await kubernetes.start();
    const api = apiFor(cluster);
    await ensureCrds(api, istioCrds());
    for (const ns of ["istio-system", NS]) await api.request("POST", "/api/v1/namespaces", { body: { metadata: { name: ns } } });
    await api.request("POST", `/api/v1/namespaces/${NS}/services`, {
      body: { metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: port }] } },
    });
    await api.request("POST", `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`, {
      body: {
        metadata: { name: "web-1", labels: { "kubernetes.io/service-name": "web" } },
        addressType: "IPv4",
        endpoints: [{ addresses: [WORKLOAD.ip], conditions: { ready: true } }],
        ports: [{ name: "http", port, protocol: "TCP" }],
      },
    });
    await api.request("POST", `/apis/security.istio.io/v1/namespaces/${NS}/authorizationpolicies`, {
      body: {
        apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "deny-admin", namespace: NS },
        spec: { selector: { matchLabels: { app: "web" } }, action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin"] } }] }] },
      },
    });
    // The inbound port a Sidecar resource gives the workload: a listener bound to loopback (capture mode NONE),
    // forwarding to the upstream. Without it, istiod's listeners are all for iptables-redirected traffic.
    inboundPort = await freePort();
    await api.request("POST", `/apis/networking.istio.io/v1/namespaces/${NS}/sidecars`, {
      body: {
        apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name: "web", namespace: NS },
        spec: {
          workloadSelector: { labels: { app: "web" } },
          ingress: [{ port: { number: inboundPort, protocol: "HTTP", name: "http" }, bind: "127.0.0.1", captureMode: "NONE", defaultEndpoint: `127.0.0.1:${port}` }],
        },
      },
    });
    istiod = await istio.start({
      kubeconfig: cluster.kubeconfigPath,
      extraArgs: ["--configDir="],
      env: { PILOT_DEBOUNCE_AFTER: "20ms", PILOT_DEBOUNCE_MAX: "500ms" },
    });
    proxy = runXdsProxy({
      url: `http://${istiod.grpcAddr}`,
      node: sidecarNode(WORKLOAD),
      filters: httpFilters,
      log: (l) => logs.push(l),
      backoff: { baseMs: 100, maxMs: 1000 },
    });
  }, 180_000);
  afterAll(async () => {
    await proxy?.stop();
    await istiod?.stop();
    await cluster?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  it("reaches an applied config from istiod", async () => {
    const deadline = Date.now() + 60_000;
    while (!proxy.client.status().appliedVersion && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const s = proxy.client.status();
    console.log(`sidecar status: ${JSON.stringify(s, null, 1)}`);
    console.log(`sidecar logs:\n${logs.join("\n")}`);
    expect(s.appliedVersion).toBeDefined();
    expect(s.types.listener?.lastNack).toBeUndefined();
    expect(s.types.cluster?.lastNack).toBeUndefined();
    expect(s.types.listener?.names).toEqual([`127.0.0.1_${inboundPort}`]);
    expect(s.types.cluster?.names).toContain(`inbound|${inboundPort}||`);
    // What istiod sends and weft does not serve: the interception catch-alls, the mTLS chain (its
    // certificates come from istio-agent's SDS), and clusters that need original destination or auto mTLS.
    const notServed = s.ignored.filter((i) => /not served/.test(i)).map((i) => i.replaceAll(String(inboundPort), "PORT"));
    expect(notServed.sort()).toEqual([
      "Cluster/InboundPassthroughCluster type: an ORIGINAL_DST cluster is not served by weft (weft does not intercept traffic); routes to it fail",
      "Cluster/PassthroughCluster type: an ORIGINAL_DST cluster is not served by weft (weft does not intercept traffic); routes to it fail",
      "Cluster/outbound|443||kubernetes.default.svc.cluster.local transport_socket_matches: weft cannot choose the transport socket per endpoint (auto mTLS); the cluster is not served (fail closed)",
      "Cluster/outbound|80||web.shop.svc.cluster.local transport_socket_matches: weft cannot choose the transport socket per endpoint (auto mTLS); the cluster is not served (fail closed)",
      "Listener/0.0.0.0_80 bind_to_port: a listener that does not bind (reached through original-destination redirection) is not served by weft",
      "Listener/10.96.0.1_443 bind_to_port: a listener that does not bind (reached through original-destination redirection) is not served by weft",
      "Listener/127.0.0.1_PORT filter_chains[0].transport_socket: the chain's certificates come from an SDS server outside the ADS stream (Istio's istio-agent); the chain is not served (fail closed)",
      "Listener/virtualInbound listener_filters: a catch-all listener for transparently redirected traffic (original destination) is not served by weft: weft does not intercept traffic",
      "Listener/virtualOutbound use_original_dst: a catch-all listener for transparently redirected traffic (original destination) is not served by weft: weft does not intercept traffic",
    ].sort());
  }, 90_000);

  it("forwards a request through the inbound listener to the upstream", async () => {
    const res = await fetch(`http://127.0.0.1:${inboundPort}/hello`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("upstream saw /hello");
  });

  it("enforces istiod's AuthorizationPolicy (DENY /admin) on the inbound listener", async () => {
    const res = await fetch(`http://127.0.0.1:${inboundPort}/admin`);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("upstream saw");
  });
});
