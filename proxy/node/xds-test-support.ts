/**
 * @module proxy/node/xds-test-support
 * Shared pieces of the xDS end-to-end tests: free loopback ports, polling until something happens (no
 * timing assertions), mTLS and plaintext calls, a workload SVID from the CA, and a control plane with
 * one service (`web` in namespace `demo`, a ServiceEntry and a WorkloadEntry) in a temporary directory.
 */
import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { generateKeyPair, privateKeyToPem } from "../../control/ca/keys.ts";
import { startControlPlane, type RunningControlPlane } from "../../control/node/control-plane.ts";
import { xdsExtension, type XdsExtensionOptions } from "../../control/node/xds-extension.ts";

export const TD = "cluster.local";
export const WEB_ID = `spiffe://${TD}/ns/demo/sa/web`;
export const ADMIN_TOKEN = "admin-token-for-tests";

export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Polls `probe` until it returns a value (exceptions count as "not yet"). */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 600; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what} (${String(last)})`);
}

export interface Reply {
  status: number;
  body: string;
  serverSerial?: string;
  reusedSocket?: boolean;
}

export interface ClientCredential {
  cert: string;
  key: string;
  ca: string;
}

export function callMtls(port: number, client: ClientCredential, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: "127.0.0.1", port, path: "/hello", ...(agent ? { agent } : { agent: false, ...client }),
      checkServerIdentity: (_h: string, cert: PeerCertificate) => (cert.subjectaltname?.includes(`URI:${WEB_ID}`) ? undefined : new Error(`unexpected server ${cert.subjectaltname}`)),
    }, (res) => {
      const serverSerial = (res.socket as TLSSocket | null)?.getPeerCertificate().serialNumber;
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ...(serverSerial ? { serverSerial } : {}), reusedSocket: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end();
  });
}

export function callPlain(port: number, host?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/plain", agent: false, ...(host ? { headers: { host } } : {}) }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function postJson(url: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** An SVID for `spiffeId` straight from the CA, as TLS client options. */
export async function workloadCredential(cp: RunningControlPlane, spiffeId: string): Promise<ClientCredential> {
  const keys = await generateKeyPair();
  const svid = await cp.ca.issue({ spiffeId, publicKey: keys.publicKey });
  return { cert: svid.chainPem.slice(0, -1).join(""), key: await privateKeyToPem(keys.privateKey), ca: cp.ca.trustBundle().join("") };
}

export interface TestMesh {
  app: Server;
  appPort: number;
  servicePort: number;
  inboundPort: number;
  xdsPort: number;
  logs: string[];
  /** Starts (or restarts, same data directory and xDS port) the control plane. */
  startControlPlane(): Promise<RunningControlPlane>;
  close(): Promise<void>;
}

/** An HTTP app, and the ServiceEntry/WorkloadEntry that make it the `web` service, once the control plane runs. */
export async function createTestMesh(dataDir: string, xds: Omit<XdsExtensionOptions, "host" | "port" | "inboundPort" | "listenAddress"> = {}): Promise<TestMesh> {
  const app = createHttpServer((req, res) => res.end(JSON.stringify({ app: "web", path: req.url })));
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  const appPort = (app.address() as AddressInfo).port;
  const [servicePort, inboundPort, xdsPort] = [await freePort(), await freePort(), await freePort()];
  const logs: string[] = [];
  let seeded = false;
  return {
    app, appPort, servicePort, inboundPort, xdsPort, logs,
    async startControlPlane() {
      const cp = await startControlPlane({
        dataDir, trustDomain: TD, admin: { host: "127.0.0.1", port: 0, token: ADMIN_TOKEN },
        extensions: [xdsExtension({ ...xds, host: "127.0.0.1", port: xdsPort, listenAddress: "127.0.0.1", inboundPort: () => inboundPort })],
        log: (l) => logs.push(`cp: ${l}`),
      });
      if (!seeded) {
        seeded = true;
        await cp.store.apply([
          { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "web", namespace: "demo" },
            spec: { hosts: ["web.demo.svc.cluster.local"], ports: [{ number: servicePort, name: "http", protocol: "HTTP", targetPort: appPort }], resolution: "STATIC", workloadSelector: { labels: { app: "web" } } } },
          { apiVersion: "networking.istio.io/v1", kind: "WorkloadEntry", metadata: { name: "web-1", namespace: "demo" },
            spec: { address: "127.0.0.1", labels: { app: "web" }, serviceAccount: "web" } },
        ]);
      }
      return cp;
    },
    close: () => new Promise<void>((r) => app.close(() => r())),
  };
}

export { Agent };
