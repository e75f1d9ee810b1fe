/**
 * @module edge/conformance/upstreams
 * The real upstream servers the conformance suite proxies to (Node, port 0): an echo server that
 * answers the request it saw as JSON (and sends hop-by-hop headers the proxy must drop), a flaky one
 * that fails the first try of each `x-request-id` with 503, a slow one that answers after 1.5 s, and a
 * closed port. Plus a raw HTTP/1.1 client, because `fetch` would normalize the paths under test.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Upstreams {
  echo: number;
  flaky: number;
  slow: number;
  closed: number;
  /** Requests each upstream received, by name. */
  hits: Record<"echo" | "flaky" | "slow", number>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

export async function startUpstreams(): Promise<Upstreams> {
  const hits = { echo: 0, flaky: 0, slow: 0 };
  const seen = new Set<string>();
  const echo = createServer((req, res) => {
    hits.echo++;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "echo", connection: "keep-alive, x-hop-named", "x-hop-named": "drop me", "keep-alive": "timeout=5" });
      res.end(body);
    });
  });
  const flaky = createServer((req, res) => {
    hits.flaky++;
    const id = String(req.headers["x-request-id"] ?? "");
    if (!seen.has(id)) {
      seen.add(id);
      res.writeHead(503, { "content-type": "text/plain" }).end("flaky: first try fails");
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" }).end("flaky: second try works");
  });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const slow = createServer((_req, res) => {
    hits.slow++;
    const t = setTimeout(() => {
      timers.delete(t);
      res.writeHead(200).end("slow");
    }, 1500);
    timers.add(t);
  });
  const closedServer = createServer();
  const closed = await listen(closedServer);
  await new Promise<void>((r) => closedServer.close(() => r()));
  const servers = [echo, flaky, slow];
  const [e, f, s] = await Promise.all(servers.map(listen));
  return {
    echo: e!, flaky: f!, slow: s!, closed, hits,
    async close() {
      for (const t of timers) clearTimeout(t);
      await Promise.all(servers.map((srv) => new Promise<void>((r) => {
        srv.close(() => r());
        srv.closeAllConnections();
      })));
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request with the path sent byte for byte. */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.end(body);
  });
}
