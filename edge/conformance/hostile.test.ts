import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestKey, jwksText, sign } from "../../plugins/jwt-authn/test-keys.ts";
import { pathBypassCases } from "../../test-support/path-bypass-cases.ts";
import type { NodeListener } from "../node-listener/serve-node.ts";
import type { HostName } from "./cases.ts";
import { algNoneToken, hostileDocument, HOSTILE_ISSUER, MAX_BODY, startHostileUpstreams, type HostileUpstreams } from "./hostile-setup.ts";
import { startDenoHost, startFeed, startFetchHostOnNode, startWorkerdHost, type RunningHost } from "./hosts.ts";

// The hostile-request suite on the fetch hosts — the fetch-host core on node:http, a real `deno`
// process and a real `workerd` process — with the same path-bypass table as the Node proxy's
// bad-input suite. Request smuggling does not apply: the runtime parses HTTP, the fetch host only
// ever sees a parsed Request. Every case checks the status, the access-log record when weft
// answered, that the upstream saw nothing it must not, and that the proxy serves the next request.

const FEED_TOKEN = "hostile-feed-token";

/**
 * A head far beyond any configured limit (200 KiB) is refused by the runtime's own HTTP parser before
 * weft sees it: what each runtime answers (0 = the connection reset before a response arrived; Deno
 * answers 400 and resets while the client is still writing, so the client may see either).
 */
const RUNTIME_HEAD_LIMIT: Record<Exclude<HostName, "node">, number[]> = { "fetch-node": [431], deno: [400, 0], workerd: [431] };

/** 200 header fields in a small head: hyper (Deno) refuses more than 100 fields with 400; node:http and workerd pass them on (200). */
const MANY_HEADERS: Record<Exclude<HostName, "node">, number> = { "fetch-node": 200, deno: 400, workerd: 200 };

let up: HostileUpstreams;
let tokens: Record<string, string>;
let jwks: string;

beforeAll(async () => {
  up = await startHostileUpstreams();
  const key = await createTestKey("k1");
  const stranger = await createTestKey("k1");
  jwks = jwksText(key);
  const now = Date.now();
  const claims = { iss: HOSTILE_ISSUER, sub: "alice", aud: "edge" };
  tokens = {
    valid: await sign(key, claims, now),
    expired: await sign(key, claims, now - 7200_000, { expiresInSeconds: 60 }),
    "wrong-key": await sign(stranger, claims, now),
    "wrong-aud": await sign(key, { ...claims, aud: "elsewhere" }, now),
    "alg-none": algNoneToken({ ...claims, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 3600 }),
    garbage: "not.a.jwt",
  };
}, 30_000);

afterAll(async () => {
  await up?.close();
});

interface Reply {
  status: number;
  head: string;
  body: string;
}

/**
 * One request as raw bytes on a fresh connection; resolves with what came back once the peer closes
 * (or resets) the connection — status 0 when nothing did.
 */
function send(port: number, bytes: string): Promise<Reply> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const done = () => {
      const split = text.indexOf("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head: split === -1 ? text : text.slice(0, split), body: split === -1 ? "" : text.slice(split + 4) });
    };
    socket.on("data", (c: Buffer) => (text += c.toString("latin1")));
    socket.on("error", () => undefined); // a reset ends the exchange like a close
    socket.on("close", done);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.write(Buffer.from(bytes, "latin1"));
  });
}

const get = (path: string, headers: Record<string, string> = {}) =>
  `GET ${path} HTTP/1.1\r\nhost: edge.test\r\nconnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;

async function newRecord(host: RunningHost, before: number): Promise<Record<string, unknown>> {
  let record: Record<string, unknown> | undefined;
  for (let i = 0; i < 100 && record === undefined; i++) {
    record = host.accessLog().slice(before).find((r) => r.path !== "/still-serving");
    if (record === undefined) await new Promise((r) => setTimeout(r, 20));
  }
  expect(record, `${host.name}: an access-log record\n${host.output().slice(-1500)}`).toBeDefined();
  return record!;
}

async function stillServing(host: RunningHost): Promise<void> {
  const res = await send(host.port, get("/still-serving"));
  expect(res.status, `${host.name} still serves after the hostile request`).toBe(200);
}

interface Pair {
  base: RunningHost;
  strict: RunningHost;
}

function suite(name: Exclude<HostName, "node">, start: () => Promise<Pair>): void {
  describe(`hostile requests on the ${name} host`, () => {
    let hosts: Pair;
    beforeAll(async () => {
      hosts = await start();
    }, 120_000);
    afterAll(async () => {
      await hosts?.base.close();
      await hosts?.strict.close();
    });

    it("a head over maxRequestHeadersBytes → 431 DPE, not forwarded", async () => {
      const h = hosts.base;
      const logged = h.accessLog().length;
      const arrived = up.arrived.length;
      const res = await send(h.port, get("/big-head", { "x-big": "a".repeat(6000) }));
      expect(res.status).toBe(431);
      expect(await newRecord(h, logged)).toMatchObject({ response_code: 431, response_flags: "DPE", response_code_details: "request_headers_too_large" });
      expect(up.arrived.length).toBe(arrived);
      await stillServing(h);
    });

    it("a head beyond the runtime's own limit is refused by the runtime", async () => {
      const h = hosts.base;
      const res = await send(h.port, get("/huge-head", { "x-huge": "a".repeat(200 * 1024) }));
      expect(RUNTIME_HEAD_LIMIT[name]).toContain(res.status);
      expect(up.arrived).not.toContain("/huge-head");
      await stillServing(h);
    });

    it("200 short headers (a small head, many fields)", async () => {
      const h = hosts.base;
      const many = Object.fromEntries(Array.from({ length: 200 }, (_v, i) => [`x-h${i}`, "1"]));
      const res = await send(h.port, get("/many-headers", many));
      expect(res.status).toBe(MANY_HEADERS[name]);
      await stillServing(h);
    });

    it("a declared body over maxRequestBodyBytes → 413, not forwarded", async () => {
      const h = hosts.base;
      const logged = h.accessLog().length;
      const body = "b".repeat(MAX_BODY + 1);
      const res = await send(h.port, `POST /big-body HTTP/1.1\r\nhost: edge.test\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      expect(res.status).toBe(413);
      expect(res.body).toContain(`exceeds ${MAX_BODY} bytes`);
      expect(await newRecord(h, logged)).toMatchObject({ response_code: 413, response_code_details: "request_payload_too_large" });
      expect(up.arrived).not.toContain("/big-body");
      await stillServing(h);
    });

    it("a chunked body is counted as it is read: over the limit → 413, nothing reaches the upstream", async () => {
      const h = hosts.base;
      const logged = h.accessLog().length;
      const chunk = "c".repeat(400);
      const chunks = Array.from({ length: 4 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("");
      const res = await send(h.port, `POST /streamed-body HTTP/1.1\r\nhost: edge.test\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
      expect(res.status).toBe(413);
      expect(await newRecord(h, logged)).toMatchObject({ response_code: 413, response_code_details: "request_payload_too_large" });
      expect(up.arrived).not.toContain("/streamed-body");
      await stillServing(h);
    });

    it("a body within the limit, declared or chunked, is forwarded whole", async () => {
      const h = hosts.base;
      const body = "d".repeat(MAX_BODY);
      const res = await send(h.port, `POST /small-body HTTP/1.1\r\nhost: edge.test\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      expect(res.status).toBe(200);
      expect(up.completed.filter((c) => c.url === "/small-body").at(-1)).toEqual({ url: "/small-body", bodyBytes: MAX_BODY });
      const chunked = await send(h.port, `POST /small-chunked HTTP/1.1\r\nhost: edge.test\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n200\r\n${"e".repeat(512)}\r\n200\r\n${"e".repeat(512)}\r\n0\r\n\r\n`);
      expect(chunked.status).toBe(200);
      expect(up.completed.filter((c) => c.url === "/small-chunked").at(-1)).toEqual({ url: "/small-chunked", bodyBytes: MAX_BODY });
    });

    it.each([
      ["expired", 401, "Jwt_is_expired"],
      ["wrong-key", 401, undefined],
      ["alg-none", 401, undefined],
      ["garbage", 401, undefined],
      // Envoy's jwt_authn answers a wrong audience with 403, and so does weft's filter on every host.
      ["wrong-aud", 403, "Audiences_in_Jwt_are_not_allowed"],
    ] as const)("JWT %s → %i with the jwt_authn details in the access log, not forwarded", async (token, status, details) => {
      const h = hosts.base;
      const logged = h.accessLog().length;
      const path = `/jwt-${token}`;
      const res = await send(h.port, get(path, { authorization: `Bearer ${tokens[token]}` }));
      expect(res.status).toBe(status);
      expect(res.head.toLowerCase()).toContain('www-authenticate: bearer realm="http://edge.test');
      const record = await newRecord(h, logged);
      expect(record).toMatchObject({ response_code: status, path });
      expect(String(record.response_code_details)).toMatch(details === undefined ? /^jwt_authn_access_denied\{.+\}$/ : `jwt_authn_access_denied{${details}}`);
      expect(up.arrived).not.toContain(path);
      await stillServing(h);
    });

    it("a valid JWT passes (the control for the rows above)", async () => {
      const res = await send(hosts.base.port, get("/jwt-valid", { authorization: `Bearer ${tokens.valid}` }));
      expect(res.status).toBe(200);
    });

    describe("path normalization before routing and RBAC: the Node proxy's table", () => {
      it.each(pathBypassCases.map((c) => [c.listener, c.path, c] as const))("%s %s", async (_listener, path, c) => {
        const h = c.listener === "base" ? hosts.base : hosts.strict;
        const want = c.fetchHost ?? c;
        const logged = h.accessLog().length;
        const arrived = up.arrived.length;
        const res = await send(h.port, get(path));
        expect(res.status, `${name} ${path}${c.fetchHost ? ` (fetch-host difference: ${c.fetchHost.reason})` : ""}: body ${res.body.slice(0, 200)}`).toBe(want.status);
        const record = await newRecord(h, logged);
        expect(record).toMatchObject({ response_code: want.status, response_flags: want.flag });
        if (want.status === 403) expect(String(record.response_code_details)).toMatch(/^rbac_access_denied_matched_policy\[ns\[default\]-policy\[deny-admin\]/);
        if (want.upstream === undefined) expect(up.arrived.slice(arrived)).toEqual([]);
        else expect(up.arrived.slice(arrived)).toEqual([want.upstream]);
        await stillServing(h);
      });
    });

    it("an upstream reset mid-body → the response is cut short, flag UC", async () => {
      const h = hosts.base;
      const logged = h.accessLog().length;
      const res = await send(h.port, get("/mid-body"));
      expect(res.status).toBe(200);
      expect(res.body.length).toBeLessThan(100);
      expect(await newRecord(h, logged)).toMatchObject({ path: "/mid-body", response_code: 200, response_flags: "UC" });
      await stillServing(h);
    });

    it("an upstream slower than the route timeout → 504 UT", async () => {
      const h = hosts.base;
      const logged = h.accessLog().length;
      const res = await send(h.port, get("/slow"));
      expect(res.status).toBe(504);
      expect(await newRecord(h, logged)).toMatchObject({ path: "/slow", response_code: 504, response_flags: "UT" });
      await stillServing(h);
    });
  });
}

suite("fetch-node", async () => ({
  base: await startFetchHostOnNode(hostileDocument(up, jwks), "base"),
  strict: await startFetchHostOnNode(hostileDocument(up, jwks), "strict-paths"),
}));

suite("deno", async () => {
  const [base, strict] = await Promise.all([
    startDenoHost(hostileDocument(up, jwks), ["--listener", "base"]),
    startDenoHost(hostileDocument(up, jwks), ["--listener", "strict-paths"]),
  ]);
  return { base, strict };
});

let feed: NodeListener | undefined;
suite("workerd", async () => {
  feed = await startFeed(new Map([["edge", { proxy: hostileDocument(up, jwks).proxy }]]), FEED_TOKEN);
  const common = { feedUrl: `http://127.0.0.1:${feed.port}/v1/edge/config?node=edge`, feedToken: FEED_TOKEN, accessLog: true };
  const base = await startWorkerdHost({ ...common, listener: "base" });
  const strict = await startWorkerdHost({ ...common, listener: "strict-paths" });
  return {
    base,
    strict: { ...strict, close: async () => { await strict.close(); await feed?.close(); } },
  };
});
