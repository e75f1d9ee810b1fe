import { describe, expect, it } from "vitest";
import { httpFilters } from "../../plugins/registry.ts";
import type { ProxyConfig } from "../../proxy/config/types.ts";
import { createFeedClient, type ConfigCache } from "./feed-client.ts";

const PROXY = `listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ directResponse: { status: 200, body: ok } }] }]
`;

function setup(cacheText?: string) {
  let clock = 1_000_000;
  let up = true;
  const applied: ProxyConfig[] = [];
  const store = { text: cacheText };
  const cache: ConfigCache = { read: () => Promise.resolve(store.text), write: (t) => { store.text = t; return Promise.resolve(); } };
  const feed = createFeedClient({
    url: "http://control.test/v1/edge/config?node=edge",
    filters: httpFilters,
    cache,
    now: () => clock,
    apply: (c) => applied.push(c),
    fetch: (() => up
      ? Promise.resolve(new Response(JSON.stringify({ version: "v1", proxy: PROXY }), { status: 200 }))
      : Promise.reject(new TypeError("connection refused"))) as typeof fetch,
  });
  return { feed, applied, store, advance: (ms: number) => (clock += ms), down: () => (up = false) };
}

describe("feed client: a control plane that goes away", () => {
  it("keeps the last good config and reports its source and age on the admin headers", async () => {
    const t = setup();
    await t.feed.refresh();
    expect(t.feed.headers()).toMatchObject({ "x-weft-config-source": "control-plane", "x-weft-config-version": "v1" });
    expect(t.feed.headers()["x-weft-config-stale"]).toBeUndefined();
    t.down();
    t.advance(12_400);
    await t.feed.refresh();
    expect(t.applied).toHaveLength(1);
    const h = t.feed.headers();
    expect(h).toMatchObject({ "x-weft-config-source": "cache", "x-weft-config-version": "v1", "x-weft-config-stale": "12s" });
    expect(h["x-weft-config-error"]).toContain("control plane unreachable: connection refused");
  });

  it("after a restart, serves the cached document and its age from the cache's fetch time", async () => {
    const first = setup();
    await first.feed.refresh();
    const second = setup(first.store.text);
    second.down();
    second.advance(65_000);
    await second.feed.refresh();
    expect(second.applied.map((c) => c.version)).toEqual(["v1"]);
    expect(second.feed.headers()).toMatchObject({ "x-weft-config-source": "cache", "x-weft-config-stale": "65s" });
  });

  it("reads an older cache holding the bare document; its age is unknown", async () => {
    const t = setup(JSON.stringify({ version: "old", proxy: PROXY }));
    t.down();
    await t.feed.refresh();
    expect(t.applied.map((c) => c.version)).toEqual(["old"]);
    expect(t.feed.headers()).toMatchObject({ "x-weft-config-source": "cache", "x-weft-config-stale": "unknown" });
  });
});
