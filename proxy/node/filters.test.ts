import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "../../core/schema/index.ts";
import { httpFilters } from "../../plugins/registry.ts";
import type { HttpFilterFactory } from "../filter.ts";
import { httpListenerYaml, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

/** A test-only filter: denies `x-deny`, tags requests, rewrites a path, stamps responses; async like real ones. */
const gate: HttpFilterFactory<{ tag: string }> = {
  name: "test.gate",
  status: "wip",
  runtimes: ["node"],
  schema: z.strictObject({ tag: z.string() }),
  create: (cfg) => ({
    name: "test.gate",
    async onRequest(stream) {
      await Promise.resolve();
      if (stream.headers.get("x-deny") !== undefined) return { status: 403, body: "denied by gate", flag: "RBAC" };
      stream.headers.set("x-tag", cfg.tag);
      stream.headers.delete("x-remove-me");
      if (stream.path === "/gate/rewrite") stream.path = "/gate/rewritten";
      return undefined;
    },
    onResponse(_stream, res) {
      res.headers.set("x-gate", "passed");
    },
  }),
};

describe("HTTP filter chain on the Node host", () => {
  let up: Upstream;
  let proxy: TestProxy;
  beforeAll(async () => {
    up = await startUpstream();
    const filters = new Map(httpFilters);
    filters.set(gate.name, gate as HttpFilterFactory<unknown>);
    proxy = await startProxy(httpListenerYaml(`
- route: { cluster: up }
`, `
- name: up
  endpoints: [127.0.0.1:${up.port}]
`, `
      filters:
        - { name: test.gate, config: { tag: blue } }
        - { name: router }`), undefined, filters);
  });
  afterAll(async () => {
    await proxy.close();
    await up.close();
  });

  it("runs filters before the router: header mutation, path rewrite, response hook", async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.port()}/gate/rewrite`, { headers: { "x-remove-me": "1" } });
    expect(res.headers.get("x-gate")).toBe("passed");
    const e = (await res.json()) as { url: string; headers: Record<string, string> };
    expect(e.url).toBe("/gate/rewritten");
    expect(e.headers["x-tag"]).toBe("blue");
    expect(e.headers["x-remove-me"]).toBeUndefined();
  });

  it("answers locally when a filter says so, with its response flag", async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.port()}/gate`, { headers: { "x-deny": "1" } });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("denied by gate");
    expect(proxy.accessLog.findLast((l) => l.path === "/gate")).toMatchObject({ response_code: 403, response_flags: "RBAC" });
  });
});

describe("registered plugins on the Node host", () => {
  let up: Upstream;
  let proxy: TestProxy;
  beforeAll(async () => {
    up = await startUpstream((_req, res) => res.end("ok"));
    proxy = await startProxy(httpListenerYaml(`
- name: all
  route: { cluster: up }
`, `
- name: up
  endpoints: [127.0.0.1:${up.port}]
`, `
      filters:
        - name: local-rate-limit
          config: { tokenBucket: { maxTokens: 2, tokensPerFill: 1, fillInterval: 1h } }
        - { name: router }`));
  });
  afterAll(async () => {
    await proxy.close();
    await up.close();
  });

  it("local-rate-limit answers 429 once the bucket is empty", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`http://127.0.0.1:${proxy.port()}/rl`)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(proxy.accessLog.filter((l) => l.path === "/rl").map((l) => l.response_flags)).toEqual(["-", "-", "RL", "RL"]);
  });
});

describe("filter contract on the Node host", () => {
  it("a delayed request that continues carries DI; onComplete runs once per request with its summary", async () => {
    const up = await startUpstream((_req, res) => res.end("ok"));
    const summaries: { status: number; flags: string; details: string }[] = [];
    const probe: HttpFilterFactory<Record<string, never>> = {
      name: "test.probe", status: "wip", runtimes: ["node"], schema: z.strictObject({}),
      create: () => ({ name: "test.probe", onComplete: (_s, sum) => void summaries.push({ status: sum.status, flags: sum.flags, details: sum.details }) }),
    };
    const filters = new Map(httpFilters);
    filters.set(probe.name, probe as HttpFilterFactory<unknown>);
    const proxy = await startProxy(httpListenerYaml(`
- route: { cluster: up }
`, `
- name: up
  endpoints: [127.0.0.1:${up.port}]
`, `
      filters:
        - { name: test.probe }
        - { name: fault, config: { headerControl: true } }
        - { name: router }`), undefined, filters);
    const slow = await fetch(`http://127.0.0.1:${proxy.port()}/slow`, { headers: { "x-envoy-fault-delay-request": "20" } });
    expect(await slow.text()).toBe("ok");
    expect(proxy.accessLog.findLast((l) => l.path === "/slow")).toMatchObject({ response_code: 200, response_flags: "DI", response_code_details: "via_upstream" });
    const aborted = await fetch(`http://127.0.0.1:${proxy.port()}/abort`, { headers: { "x-envoy-fault-abort-request": "503" } });
    expect(aborted.status).toBe(503);
    expect(proxy.accessLog.findLast((l) => l.path === "/abort")).toMatchObject({ response_flags: "FI", response_code_details: "fault_filter_abort" });
    expect(summaries).toEqual([
      { status: 200, flags: "DI", details: "via_upstream" },
      { status: 503, flags: "FI", details: "fault_filter_abort" },
    ]);
    await proxy.close();
    await up.close();
  });
});
