import { describe, expect, it } from "vitest";
import type { KubeObject } from "./api.ts";
import { endpointHealth, portProtocol, registryFromKubernetes } from "./conversion.ts";

// Object shapes as a kube-apiserver returns them (trimmed of managedFields).
const reviews: KubeObject = {
  kind: "Service", apiVersion: "v1",
  metadata: { name: "reviews", namespace: "bookinfo", uid: "7d3c", resourceVersion: "1042", labels: { app: "reviews", service: "reviews" } },
  spec: {
    ports: [
      { name: "http", protocol: "TCP", port: 9080, targetPort: 9080 },
      { name: "grpc-api", protocol: "TCP", port: 9090, targetPort: "grpc" },
      { name: "metrics", protocol: "TCP", appProtocol: "http", port: 15020, targetPort: 15020 },
      { name: "dns", protocol: "UDP", port: 53, targetPort: 53 },
      { protocol: "TCP", port: 7000, targetPort: 7001, name: "cache" },
    ],
    selector: { app: "reviews" }, clusterIP: "10.96.0.17", clusterIPs: ["10.96.0.17"], type: "ClusterIP",
    sessionAffinity: "None", ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack", internalTrafficPolicy: "Cluster",
  },
  status: { loadBalancer: {} },
};

const slice = (name: string, endpoints: unknown[], ports: unknown[] = [{ name: "http", protocol: "TCP", port: 9080 }, { name: "grpc-api", protocol: "TCP", port: 9191 }]): KubeObject => ({
  kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1",
  metadata: {
    name, namespace: "bookinfo", resourceVersion: "1050", generateName: "reviews-",
    labels: { "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": "reviews" },
    ownerReferences: [{ apiVersion: "v1", kind: "Service", name: "reviews", uid: "7d3c", controller: true, blockOwnerDeletion: true }],
  },
  addressType: "IPv4",
  endpoints,
  ports,
});

const pod = (name: string, ip: string, sa: string, node: string, phase = "Running"): KubeObject => ({
  kind: "Pod", apiVersion: "v1",
  metadata: { name, namespace: "bookinfo", resourceVersion: "990", labels: { app: "reviews", version: "v1", "topology.istio.io/network": "net-a" } },
  spec: {
    serviceAccountName: sa, serviceAccount: sa, nodeName: node,
    containers: [{ name: "reviews", image: "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2", ports: [{ name: "grpc", containerPort: 9191, protocol: "TCP" }, { containerPort: 9080, protocol: "TCP" }] }],
  },
  status: { phase, podIP: ip, podIPs: [{ ip }], hostIP: "172.18.0.2" },
});

const node: KubeObject = {
  kind: "Node", apiVersion: "v1",
  metadata: { name: "worker-1", labels: { "kubernetes.io/hostname": "worker-1", "topology.kubernetes.io/region": "eu-west-1", "topology.kubernetes.io/zone": "eu-west-1a", "topology.istio.io/subzone": "rack-7" } },
  spec: {}, status: {},
};

const ep = (ip: string, podName: string, conditions: Record<string, boolean>, extra: Record<string, unknown> = {}) => ({
  addresses: [ip], conditions, targetRef: { kind: "Pod", namespace: "bookinfo", name: podName, uid: "p" }, nodeName: "worker-1", zone: "eu-west-1b", ...extra,
});

describe("portProtocol", () => {
  it.each([
    [{ name: "http" }, { protocol: "http" }],
    [{ name: "http2-web" }, { protocol: "http2" }],
    [{ name: "grpc-web-ui" }, { protocol: "http", protocolName: "GRPC-WEB" }],
    [{ name: "https-admin" }, { protocol: "tls", protocolName: "HTTPS" }],
    [{ name: "TCP-db" }, { protocol: "tcp" }],
    [{ name: "mongo" }, { protocol: "tcp", protocolName: "MONGO" }],
    [{ name: "web", appProtocol: "kubernetes.io/h2c" }, { protocol: "http2" }],
    [{ name: "tcp-ws", appProtocol: "kubernetes.io/ws" }, { protocol: "websocket" }],
    [{ name: "http", appProtocol: "grpc" }, { protocol: "grpc" }],
    [{ name: "web" }, undefined],
    [{}, undefined],
  ])("%o → %o", (port, expected) => {
    expect(portProtocol(port)).toEqual(expected);
  });
});

describe("endpointHealth", () => {
  it.each([
    [{ ready: true, serving: true, terminating: false }, "healthy"],
    [{}, "healthy"],
    [{ ready: false, serving: false, terminating: false }, "unhealthy"],
    [{ ready: false }, "unhealthy"],
    [{ ready: false, serving: true, terminating: true }, "draining"],
    [{ ready: false, serving: false, terminating: true }, "unhealthy"],
    [{ ready: false, terminating: true }, "unhealthy"],
  ] as const)("%o → %s", (conditions, expected) => {
    expect(endpointHealth(conditions)).toBe(expected);
  });
});

describe("registryFromKubernetes", () => {
  const objects = {
    services: [reviews],
    endpointSlices: [
      slice("reviews-abc12", [
        ep("10.244.1.5", "reviews-v1-a", { ready: true, serving: true, terminating: false }),
        ep("10.244.1.6", "reviews-v1-b", { ready: false, serving: true, terminating: true }),
      ]),
      // The same endpoint in a second slice while the controller moves it (healthier copy wins), plus one without a pod.
      slice("reviews-def34", [
        ep("10.244.1.6", "reviews-v1-b", { ready: true, serving: true, terminating: false }, { hints: { forZones: [{ name: "eu-west-1b" }] } }),
        { addresses: ["10.244.2.9"], conditions: { ready: false } },
      ]),
    ],
    pods: [pod("reviews-v1-a", "10.244.1.5", "bookinfo-reviews", "worker-1"), pod("reviews-v1-b", "10.244.1.6", "", "worker-1"), pod("job-done", "10.244.3.3", "x", "worker-1", "Succeeded")],
    nodes: [node],
  };
  const { snapshot, losses } = registryFromKubernetes(objects, { trustDomain: "example.org", clusterDomain: "cluster.local" });

  it("maps a Service to an IR service with its FQDN, cluster IP and declared protocols", () => {
    expect(snapshot.services).toEqual([{
      id: "bookinfo/reviews", name: "reviews", namespace: "bookinfo",
      hosts: ["reviews.bookinfo.svc.cluster.local"],
      ports: [
        { name: "http", port: 9080, protocol: "http" },
        { name: "grpc-api", port: 9090, protocol: "grpc" },
        { name: "metrics", port: 15020, protocol: "http" },
        { name: "cache", port: 7000, protocol: "tcp", targetPort: 7001 },
      ],
      selector: { app: "reviews" }, labels: { app: "reviews", service: "reviews" }, addresses: ["10.96.0.17"], resolution: "static",
      origin: { system: "kubernetes", object: "Service/bookinfo/reviews" },
    }]);
  });

  it("builds per-port endpoints from the slices with health, locality, labels and SPIFFE identity", () => {
    const http = snapshot.endpoints.find((e) => e.port === 9080)!;
    expect(http.endpoints).toEqual([
      {
        address: "10.244.1.5", port: 9080, health: "healthy",
        locality: { region: "eu-west-1", zone: "eu-west-1b", subzone: "rack-7" },
        labels: { app: "reviews", version: "v1", "topology.istio.io/network": "net-a" },
        identity: "spiffe://example.org/ns/bookinfo/sa/bookinfo-reviews", network: "net-a",
      },
      {
        address: "10.244.1.6", port: 9080, health: "healthy",
        locality: { region: "eu-west-1", zone: "eu-west-1b", subzone: "rack-7" },
        labels: { app: "reviews", version: "v1", "topology.istio.io/network": "net-a" },
        identity: "spiffe://example.org/ns/bookinfo/sa/default", network: "net-a",
      },
      { address: "10.244.2.9", port: 9080, health: "unhealthy" },
    ]);
    // The slice port carries the resolved target port of a named targetPort.
    expect(snapshot.endpoints.find((e) => e.port === 9090)!.endpoints.map((e) => e.port)).toEqual([9191, 9191, 9191]);
    // No slice port named "cache": no endpoints, but the port is listed.
    expect(snapshot.endpoints.find((e) => e.port === 7000)!.endpoints).toEqual([]);
  });

  it("turns running pods into workloads and skips finished ones", () => {
    expect(snapshot.workloads.map((w) => w.id)).toEqual(["bookinfo/reviews-v1-a", "bookinfo/reviews-v1-b"]);
    expect(snapshot.workloads[0]).toMatchObject({
      serviceAccount: "bookinfo-reviews", identity: "spiffe://example.org/ns/bookinfo/sa/bookinfo-reviews", addresses: ["10.244.1.5"],
      ports: { grpc: 9191 }, locality: { region: "eu-west-1", zone: "eu-west-1a", subzone: "rack-7" }, network: "net-a",
    });
  });

  it("reports what it cannot carry instead of dropping it silently", () => {
    expect(losses).toEqual([
      { object: "EndpointSlice/bookinfo/reviews-def34", field: "endpoints[0].hints", reason: expect.stringContaining("hints") },
      { object: "Service/bookinfo/reviews", field: "spec.ports[3].protocol", reason: expect.stringContaining("UDP") },
      { object: "Service/bookinfo/reviews", field: "spec.ports[4]", reason: expect.stringContaining("sniff") },
    ]);
  });

  it("maps an ExternalName service to an external DNS service", () => {
    const ext: KubeObject = { kind: "Service", apiVersion: "v1", metadata: { name: "db", namespace: "shop" }, spec: { type: "ExternalName", externalName: "db.example.com", ports: [{ name: "tcp-pg", port: 5432, protocol: "TCP" }] } };
    const r = registryFromKubernetes({ services: [ext], endpointSlices: [], pods: [] });
    expect(r.snapshot.services[0]).toMatchObject({ external: true, resolution: "dns", hosts: ["db.shop.svc.cluster.local"] });
    expect(r.snapshot.endpoints).toEqual([{ service: "shop/db", port: 5432, endpoints: [{ address: "db.example.com", port: 5432, health: "healthy" }] }]);
  });
});
