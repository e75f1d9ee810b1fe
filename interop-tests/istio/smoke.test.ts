// Smoke test for the Istio peer: the real `istioctl` (built from istio.io/istio) validates a sample
// AuthorizationPolicy, rejects an invalid one with Istio's own error and analyzes files offline; the real
// istiod (`pilot-discovery discovery`), reading Istio config from a directory and services from a real
// kube-apiserver (it panics without one at this commit), becomes ready, shows the file-loaded
// AuthorizationPolicy on its debug endpoint and the API server's Service in its registry.

import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import istio, { istioctlBin, type IstiodHandle } from "../peers/istio/peer.ts";
import kubernetes, { type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { tmpDataDir, waitFor } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, istio);
// istiod at the pinned Istio commit needs a Kubernetes API server for its service registry (see peer.ts).
const istiodReady = ready && (await requirePeers(import.meta.url, istio, kubernetes)).ready;

function kubeClient(cluster: KubernetesHandle): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

const validPolicy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-get
  namespace: shop
spec:
  selector:
    matchLabels:
      app: echo
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/shop/sa/client"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/items/*"]
`;

// A rule whose `from.source` is empty: Istio's validation refuses it.
const invalidPolicy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: empty-source
  namespace: shop
spec:
  action: ALLOW
  rules:
  - from:
    - source: {}
`;

// Routes through a gateway that does not exist: `istioctl analyze` reports IST0101 at line 8.
const virtualService = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: echo
  namespace: shop
spec:
  hosts: ["echo.shop.svc.cluster.local"]
  gateways: ["missing-gateway"]
  http:
  - route:
    - destination:
        host: echo.shop.svc.cluster.local
`;

function istioctl(args: string[]): { status: number | null; out: string } {
  const result = spawnSync(istioctlBin, args, { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe.skipIf(!ready)("istio smoke: istioctl", () => {
  const work = ready ? tmpDataDir("istioctl") : "";
  const validFile = join(work, "valid.yaml");
  const invalidFile = join(work, "invalid.yaml");
  const virtualServiceFile = join(work, "virtual-service.yaml");
  if (ready) {
    writeFileSync(validFile, validPolicy);
    writeFileSync(invalidFile, invalidPolicy);
    writeFileSync(virtualServiceFile, virtualService);
  }

  it("validates a sample AuthorizationPolicy", () => {
    const { status, out } = istioctl(["validate", "-f", validFile]);
    expect(out).toContain(`"${validFile}" is valid`);
    expect(status).toBe(0);
  });

  it("rejects an invalid AuthorizationPolicy with Istio's error", () => {
    const { status, out } = istioctl(["validate", "-f", invalidFile]);
    expect(status).not.toBe(0);
    expect(out).toContain("`from.source` must not be empty, found at rule 0");
  });

  it("analyzes files offline and reports a missing gateway as JSON with file:line", () => {
    const { out } = istioctl(["analyze", "--use-kube=false", "--all-namespaces", validFile, virtualServiceFile, "-o", "json"]);
    const messages = JSON.parse(out.slice(out.indexOf("["), out.lastIndexOf("]") + 1)) as
      { code: string; level: string; message: string; origin: string; reference?: string }[];
    expect(messages).toContainEqual(expect.objectContaining({
      code: "IST0101", level: "Error", origin: "VirtualService shop/echo", reference: `${virtualServiceFile}:8`,
    }));
    expect(messages.find((m) => m.code === "IST0101")?.message).toContain("missing-gateway");
    expect(messages.some((m) => m.origin.includes("AuthorizationPolicy"))).toBe(false);
  });
});

describe.skipIf(!istiodReady)("istio smoke: istiod with file config (services from the real API server)", () => {
  let cluster: KubernetesHandle;
  let istiod: IstiodHandle;
  beforeAll(async () => {
    cluster = await kubernetes.start();
    const core = kubeClient(cluster);
    await core.createNamespace({ body: { metadata: { name: "istio-system" } } });
    await core.createNamespace({ body: { metadata: { name: "shop" } } });
    await core.createNamespacedService({
      namespace: "shop",
      body: { metadata: { name: "echo" }, spec: { selector: { app: "echo" }, ports: [{ name: "http", port: 8080 }] } },
    });
    istiod = await istio.start({ config: validPolicy, kubeconfig: cluster.kubeconfigPath });
  });
  afterAll(async () => {
    await istiod?.stop();
    await cluster?.stop();
  });

  it("answers /ready on its HTTP port", async () => {
    const response = await fetch(`${istiod.httpUrl}/ready`);
    expect(response.status).toBe(200);
  });

  it("shows the file-loaded AuthorizationPolicy in /debug/configz", async () => {
    const response = await fetch(`${istiod.httpUrl}/debug/configz`);
    expect(response.status).toBe(200);
    const configs = (await response.json()) as { kind: string; metadata: { name: string; namespace: string }; spec: { action?: string } }[];
    const policy = configs.find((c) => c.kind === "AuthorizationPolicy" && c.metadata.name === "allow-get");
    expect(policy?.metadata.namespace).toBe("shop");
    expect(policy?.spec.action ?? "ALLOW").toBe("ALLOW");
  });

  it("lists the Service created in the API server in /debug/registryz", async () => {
    await waitFor(async () => {
      const response = await fetch(`${istiod.httpUrl}/debug/registryz`);
      return (await response.text()).includes("echo.shop.svc.cluster.local");
    }, { what: "echo.shop.svc.cluster.local in istiod's registry", logPath: istiod.logPath, timeoutMs: 30_000 });
    const services = (await (await fetch(`${istiod.httpUrl}/debug/registryz`)).json()) as { hostname: string }[];
    expect(services.map((s) => s.hostname)).toContain("echo.shop.svc.cluster.local");
  });
});
