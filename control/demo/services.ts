/**
 * @module control/demo/services
 * The three tiny HTTP services of `weft demo`: `backend` and `payments` answer JSON naming themselves,
 * and `frontend` calls them through its sidecar's outbound listener (`/call/<service>/<path>`, any
 * method), passing on the callee's status and the deciding policy its sidecar reported.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface DemoService {
  name: string;
  port: number;
  close(): Promise<void>;
}

/** What the frontend answers for `/call/<service>/<path>`. */
export interface CallResult {
  service: string;
  method: string;
  path: string;
  status: number;
  /** `x-weft-authz-policy` from the callee's sidecar (allowed calls). */
  authzPolicy?: string;
  body: string;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closing(server: Server): () => Promise<void> {
  return () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value, null, 2) + "\n";
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** A service that answers every request with its name, the method and the path. */
export async function startLeafService(name: string, port = 0): Promise<DemoService> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => json(res, 200, { service: name, method: req.method, path: req.url }));
  });
  return { name, port: await listen(server, port), close: closing(server) };
}

/** One call through the sidecar's outbound listener, addressed to `service` by Host header. */
export function callThroughSidecar(outboundPort: number, service: string, method: string, path: string): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: outboundPort, method, path, headers: { host: service }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        const policy = res.headers["x-weft-authz-policy"];
        resolve({ service, method, path, status: res.statusCode ?? 0, ...(typeof policy === "string" ? { authzPolicy: policy } : {}), body });
      });
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timed out")));
    req.end();
  });
}

const HELP = `weft demo frontend. Try:
  GET  /call/backend/items       frontend -> backend (allowed)
  GET  /call/payments/health     frontend -> payments (the one allowed path)
  POST /call/payments/charge     frontend -> payments (denied)
`;

/** The frontend: `/call/<service>/<path>` calls `<service>` at `/<path>` through `outboundPort`. */
export async function startFrontend(outboundPort: () => number, port = 0): Promise<DemoService> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const m = /^\/call\/([a-z0-9-]+)(\/.*)?$/.exec(req.url ?? "/");
    if (!m) {
      res.writeHead(req.url === "/" ? 200 : 404, { "content-type": "text/plain" });
      res.end(HELP);
      return;
    }
    callThroughSidecar(outboundPort(), m[1]!, req.method ?? "GET", m[2] ?? "/").then(
      (r) => json(res, r.status, r),
      (err: unknown) => json(res, 502, { service: m[1], error: (err as Error).message }),
    );
  });
  return { name: "frontend", port: await listen(server, port), close: closing(server) };
}
