import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestKey, jwksText, sign } from "../../plugins/jwt-authn/test-keys.ts";
import { cases, edgeDocument, ISSUER, proxyYaml, type Case, type Expectation, type HostName } from "./cases.ts";
import { startDenoHost, startFeed, startNodeHost, startWorkerdHost, type RunningHost } from "./hosts.ts";
import { rawRequest, startUpstreams, type Upstreams } from "./upstreams.ts";
import type { NodeListener } from "../node-listener/serve-node.ts";

// One table, three hosts: the Node host (proxy/node on real sockets), the Deno host (a real `deno`
// process) and the workerd host (a real `workerd` process fed by a config feed). Each host gets the
// same config and the same requests in the same order; rows that a runtime cannot match list the
// reason and the outcome that runtime must show instead (cases.ts), so nothing is skipped.

const FEED_TOKEN = "conformance-feed-token";

let upstreams: Upstreams;
let tokens: Record<string, string>;
let jwks: string;

beforeAll(async () => {
  upstreams = await startUpstreams();
  const key = await createTestKey("k1");
  jwks = jwksText(key);
  const now = Date.now();
  tokens = {
    user: await sign(key, { iss: ISSUER, sub: "alice", aud: "edge", role: "user" }, now),
    admin: await sign(key, { iss: ISSUER, sub: "root", aud: "edge", role: "admin" }, now),
    "wrong-aud": await sign(key, { iss: ISSUER, sub: "alice", aud: "elsewhere" }, now),
  };
}, 30_000);

afterAll(async () => {
  await upstreams?.close();
});

function fill(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = v.replace(/\{\{token:([\w-]+)\}\}/g, (_m, name: string) => tokens[name] ?? "");
  return out;
}

async function check(host: RunningHost, c: Case): Promise<void> {
  const diff = c.differences?.[host.name];
  const want: Expectation = diff?.expect ?? c.expect;
  const requestId = `conf-${host.name}-${c.name.replace(/\W+/g, "-")}`;
  const headers = { "x-request-id": requestId, ...fill(c.headers) };
  const res = await rawRequest(host.port, c.method ?? "GET", c.path, headers);
  const where = `${host.name}: ${c.name}${diff ? ` (known difference: ${diff.reason})` : ""}`;
  expect(res.status, `${where}: status; body ${res.body.slice(0, 300)}`).toBe(want.status);
  for (const [k, v] of Object.entries(want.headers ?? {})) expect(res.headers[k] ?? null, `${where}: response header ${k}`).toBe(v);
  if (want.bodyIncludes !== undefined) expect(res.body, `${where}: body`).toContain(want.bodyIncludes);
  if (want.upstream) {
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    if (want.upstream.url !== undefined) expect(seen.url, `${where}: upstream target`).toBe(want.upstream.url);
    for (const [k, v] of Object.entries(want.upstream.headers ?? {})) expect(seen.headers[k] ?? null, `${where}: upstream header ${k}`).toBe(v);
  }
  if (want.log) {
    const rid = (headers as Record<string, string>)["x-request-id"];
    let record: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && record === undefined; i++) {
      const logPath = want.log.path ?? c.path;
      record = host.accessLog().find((r) => r.request_id === rid) ?? host.accessLog().findLast((r) => r.path === logPath && r.request_id === undefined);
      if (record === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(record, `${where}: access-log record\n${host.output().slice(-1500)}`).toBeDefined();
    expect(record, `${where}: access-log fields`).toMatchObject(want.log);
  }
}

function suite(name: HostName, start: () => Promise<RunningHost>): void {
  describe(`conformance on the ${name} host`, () => {
    let host: RunningHost;
    beforeAll(async () => {
      host = await start();
    }, 90_000);
    afterAll(async () => {
      await host?.close();
    });
    // Rows run in table order (the rate-limit rows depend on it).
    for (const c of cases) it(c.name, () => check(host, c));
  });
}

const ports = () => ({ echo: upstreams.echo, flaky: upstreams.flaky, slow: upstreams.slow, closed: upstreams.closed });

suite("node", () => startNodeHost(proxyYaml(ports(), jwks)));
suite("deno", () => startDenoHost(edgeDocument(ports(), jwks)));

let feed: NodeListener | undefined;
suite("workerd", async () => {
  const doc = edgeDocument(ports(), jwks);
  feed = await startFeed(new Map([["edge", { proxy: doc.proxy }]]), FEED_TOKEN);
  const h = await startWorkerdHost({ feedUrl: `http://127.0.0.1:${feed.port}/v1/edge/config?node=edge`, feedToken: FEED_TOKEN, accessLog: true, plainUpstreams: [`127.0.0.1:${upstreams.echo}`] });
  return { ...h, close: async () => { await h.close(); await feed?.close(); } };
});
