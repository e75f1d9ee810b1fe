import { describe, expect, it } from "vitest";
import { createTestContext, createTestResponse, createTestStream } from "../common/testing.ts";
import { headerMutationFilter } from "./index.ts";

const build = (config: unknown) => headerMutationFilter.create(headerMutationFilter.schema.parse(config), createTestContext());

describe("header-mutation filter", () => {
  it("removes, then sets, then adds request headers", async () => {
    const f = build({ request: { remove: ["x-debug", "x-env"], set: { "x-env": "prod", "x-id": "1" }, add: { "x-tag": ["a", "b"], "x-id": "2" } } });
    const stream = createTestStream({ headers: { "x-debug": "1", "x-env": "dev", "x-tag": "z" } });
    expect(await f.onRequest!(stream)).toBeUndefined();
    expect(stream.headers.toObject()).toEqual({ "x-tag": "z, a, b", "x-env": "prod", "x-id": "1, 2" });
  });

  it("mutates response headers, with the route's mutations after the listener's", () => {
    const f = build({ response: { remove: ["server"], set: { "x-frame-options": "DENY" } }, routes: { api: { response: { set: { "x-frame-options": "SAMEORIGIN" }, add: { "cache-control": "no-store" } } } } });
    const api = createTestResponse(200, { server: "upstream", "cache-control": "private" });
    f.onResponse!(createTestStream({ routeName: "api" }), api);
    expect(api.headers.toObject()).toEqual({ "cache-control": "private, no-store", "x-frame-options": "SAMEORIGIN" });
    const other = createTestResponse(200, { server: "upstream" });
    f.onResponse!(createTestStream({ routeName: "web" }), other);
    expect(other.headers.toObject()).toEqual({ "x-frame-options": "DENY" });
  });

  it("has no response hook when nothing changes responses", () => {
    expect(build({ request: { set: { a: "b" } } }).onResponse).toBeUndefined();
  });

  it("rejects pseudo-headers and values with CR/LF", () => {
    expect(headerMutationFilter.schema.safeParse({ request: { set: { ":path": "/x" } } }).success).toBe(false);
    const r = headerMutationFilter.schema.safeParse({ response: { add: { "x-a": "1\r\nset-cookie: x" } } });
    expect(r.error?.issues[0]?.path).toEqual(["response", "add", "x-a"]);
  });
});
