/**
 * @module proxy/node/test-support
 * Helpers for the proxy's end-to-end tests: real upstream servers on port 0, a proxy started from YAML
 * text, and a raw-socket client for byte-exact HTTP/1.1 (pipelining, 100-continue, chunked framing).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, createServer as createNetServer, type AddressInfo } from "node:net";
import { formatDiagnostic } from "../../core/schema/index.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { loadProxyConfig } from "../config/load.ts";
import { createFilterCatalog, type HttpFilterFactory } from "../filter.ts";
import { createProxyServer, type ProxyServer } from "./proxy-server.ts";

export interface Upstream {
  port: number;
  server: Server;
  connections: number;
  close(): Promise<void>;
}

/** An HTTP/1.1 upstream; the default handler echoes method, url, headers and body as JSON. */
export async function startUpstream(handler?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<Upstream> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (handler) return handler(req, res, body);
      const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body: body.toString("latin1") });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
      res.end(out);
    });
  });
  const up: Upstream = { port: 0, server, connections: 0, close: () => closeServer(server) };
  server.on("connection", () => up.connections++);
  up.port = await listen(server);
  return up;
}

export async function listen(server: Server | import("node:net").Server | import("node:http2").Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/** A port on which nothing listens. */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface TestProxy {
  server: ProxyServer;
  port(listener?: string): number;
  accessLog: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a proxy from YAML text; listeners should use port 0. */
export async function startProxy(yaml: string, random?: () => number, filters: ReadonlyMap<string, HttpFilterFactory<unknown>> = httpFilters): Promise<TestProxy> {
  const r = loadProxyConfig(yaml, "test.yaml", createFilterCatalog(filters));
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  const accessLog: Record<string, unknown>[] = [];
  const server = createProxyServer({ filters, accessLog: (l) => accessLog.push(JSON.parse(l) as Record<string, unknown>), random });
  await server.apply(r.config);
  const first = r.config.listeners[0]?.name ?? "";
  return {
    server,
    accessLog,
    port: (name = first) => server.address(name)!.port,
    close: () => server.close(),
  };
}

/** YAML for one HTTP listener with inline virtual hosts. */
export function httpListenerYaml(routes: string, clusters: string, extra = ""): string {
  return `listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      accessLog: true${extra}
      virtualHosts:
        - name: all
          domains: ["*"]
          routes:
${indent(routes, 12)}
clusters:
${indent(clusters, 2)}
`;
}

function indent(s: string, n: number): string {
  return s.trim().split("\n").map((l) => " ".repeat(n) + l).join("\n");
}

/**
 * Writes raw bytes and collects what comes back until `done(text)` says so (or the socket closes).
 * `steps` are written in order, each after the previous `until` matched.
 */
export function rawExchange(port: number, steps: { write: string | Buffer; until?: (received: string) => boolean }[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let received = "";
    let i = 0;
    const next = () => {
      const step = steps[i];
      if (!step) return;
      s.write(step.write);
    };
    const check = () => {
      while (i < steps.length) {
        const until = steps[i]!.until;
        if (until === undefined || !until(received)) return;
        i++;
        if (i === steps.length) {
          s.destroy();
          resolve(received);
          return;
        }
        next();
      }
    };
    s.on("connect", next);
    s.on("data", (c: Buffer) => {
      received += c.toString("latin1");
      check();
    });
    s.on("error", reject);
    s.on("close", () => resolve(received));
    setTimeout(() => {
      s.destroy();
      resolve(received);
    }, 8000).unref();
  });
}

/** Counts complete HTTP/1.1 responses with a Content-Length body in `text`. */
export function countResponses(text: string): number {
  return (text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length;
}
