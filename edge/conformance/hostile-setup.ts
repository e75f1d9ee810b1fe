/**
 * @module edge/conformance/hostile-setup
 * What the fetch hosts' hostile-request suite runs against: one proxy config with two HTTP listeners
 * (`base` with BASE path normalization, `strict-paths` with DECODE_AND_MERGE_SLASHES), each with a
 * 4 KiB head limit, a 1 KiB body limit, jwt-authn and an rbac DENY on `/admin` (the shared table in
 * `test-support/path-bypass-cases.ts`); and hostile upstreams on Node — a recording echo server that
 * notes which requests arrived and which bodies it received whole, one that resets mid-body and one
 * that answers too late for the route timeout.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EdgeDocument } from "../config/edge-config.ts";

export const HOSTILE_ISSUER = "https://issuer.hostile.test";
export const MAX_HEAD = 4096;
export const MAX_BODY = 1024;

export interface HostileUpstreams {
  echo: number;
  midBody: number;
  slow: number;
  /** Request targets the echo server saw arrive, and the ones whose body it received in full. */
  arrived: string[];
  completed: { url: string; bodyBytes: number }[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

export async function startHostileUpstreams(): Promise<HostileUpstreams> {
  const arrived: string[] = [];
  const completed: { url: string; bodyBytes: number }[] = [];
  const echo = createServer((req, res) => {
    const url = req.url ?? "";
    arrived.push(url);
    let bodyBytes = 0;
    req.on("data", (c: Buffer) => (bodyBytes += c.length));
    req.on("end", () => {
      completed.push({ url, bodyBytes });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ url, bodyBytes }));
    });
    req.on("error", () => undefined);
  });
  const midBody = createServer((_req, res) => {
    // Promises 100 bytes, sends 10, then resets the connection.
    res.writeHead(200, { "content-length": "100" });
    res.write("0123456789");
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const slow = createServer((_req, res) => {
    const t = setTimeout(() => {
      timers.delete(t);
      res.writeHead(200).end("slow");
    }, 2000);
    timers.add(t);
  });
  const servers = [echo, midBody, slow];
  const [e, m, s] = await Promise.all(servers.map(listen));
  return {
    echo: e!, midBody: m!, slow: s!, arrived, completed,
    async close() {
      for (const t of timers) clearTimeout(t);
      await Promise.all(servers.map((srv) => new Promise<void>((r) => {
        srv.close(() => r());
        srv.closeAllConnections();
      })));
    },
  };
}

function listenerYaml(name: string, normalization: string, jwks: string): string {
  return `  - name: ${name}
    address: 127.0.0.1:0
    http:
      accessLog: true
      pathNormalization: ${normalization}
      maxRequestHeadersBytes: ${MAX_HEAD}
      maxRequestBodyBytes: ${MAX_BODY}
      filters:
        - name: jwt-authn
          config:
            jwtRules: [{ issuer: ${JSON.stringify(HOSTILE_ISSUER)}, audiences: [edge], jwks: ${JSON.stringify(jwks)} }]
        - name: rbac
          config:
            namespace: default
            policies:
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: deny-admin, namespace: default }
                spec:
                  action: DENY
                  rules: [{ to: [{ operation: { paths: ["/admin", "/admin/*", "/admin;*"] } }] }]
        - name: router
      virtualHosts:
        - name: all
          domains: ["*"]
          routes:
            - { name: mid-body, match: { prefix: /mid-body }, route: { cluster: midbody } }
            - { name: slow, match: { prefix: /slow }, route: { cluster: slow, timeoutMs: 300 } }
            - { name: default, route: { cluster: echo } }
`;
}

/** The edge document every host gets; each host serves one of its two listeners. */
export function hostileDocument(u: HostileUpstreams, jwks: string): EdgeDocument {
  const proxy = `listeners:
${listenerYaml("base", "BASE", jwks)}${listenerYaml("strict-paths", "DECODE_AND_MERGE_SLASHES", jwks)}clusters:
  - { name: echo, endpoints: ["127.0.0.1:${u.echo}"] }
  - { name: midbody, endpoints: ["127.0.0.1:${u.midBody}"] }
  - { name: slow, endpoints: ["127.0.0.1:${u.slow}"] }
`;
  return { version: "hostile-1", proxy };
}

/** An unsigned token (`alg: none`) with otherwise valid claims. */
export function algNoneToken(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}
