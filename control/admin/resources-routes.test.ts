import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { POLICY_YAML, SERVICE_ENTRY_YAML, createTestControl } from "./test-fixtures.ts";

const yaml = { "content-type": "application/yaml" };

describe("admin API: resources", () => {
  it("applies multi-document YAML, then lists, gets and shows history", async () => {
    const { app, auth, store } = await createTestControl();
    const res = await app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml }, body: `${POLICY_YAML}---\n${SERVICE_ENTRY_YAML}` });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ revision: 1, dryRun: false });
    expect(body.changes.map((c: { action: string }) => c.action)).toEqual(["create", "create"]);
    expect(store.list()).toHaveLength(2);

    const list = await (await app.request("/v1/resources?kind=AuthorizationPolicy", { headers: auth })).json();
    expect(list.items.map((i: { name: string }) => i.name)).toEqual(["allow-frontend"]);
    const byPath = await (await app.request("/v1/resources/ServiceEntry/default", { headers: auth })).json();
    expect(byPath.items.map((i: { name: string }) => i.name)).toEqual(["backend"]);
    const none = await (await app.request("/v1/resources/ServiceEntry/other", { headers: auth })).json();
    expect(none.items).toEqual([]);

    const one = await app.request("/v1/resources/AuthorizationPolicy/default/allow-frontend", { headers: auth });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ group: "security.istio.io", kind: "AuthorizationPolicy", revision: 1, object: { spec: { action: "ALLOW" } } });

    await app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml, "x-weft-actor": "alice" }, body: POLICY_YAML.replace(`methods: ["GET"]`, `methods: ["GET", "HEAD"]`) });
    const hist = await (await app.request("/v1/resources/AuthorizationPolicy/default/allow-frontend/history", { headers: auth })).json();
    expect(hist.key).toBe("security.istio.io/AuthorizationPolicy/default/allow-frontend");
    expect(hist.entries.map((e: { revision: number; actor: string }) => [e.revision, e.actor])).toEqual([[1, "admin"], [2, "admin:alice"]]);
  });

  it("accepts JSON objects, arrays and Lists", async () => {
    const { app, auth, store } = await createTestControl();
    const obj = (name: string) => ({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name, namespace: "web" }, spec: { hosts: [`${name}.example.com`], http: [{ route: [{ destination: { host: "web" } }] }] } });
    const h = { ...auth, "content-type": "application/json" };
    expect((await app.request("/v1/resources", { method: "POST", headers: h, body: JSON.stringify(obj("a")) })).status).toBe(200);
    expect((await app.request("/v1/resources", { method: "POST", headers: h, body: JSON.stringify([obj("b"), obj("c")]) })).status).toBe(200);
    expect((await app.request("/v1/resources", { method: "POST", headers: h, body: JSON.stringify({ apiVersion: "v1", kind: "List", items: [obj("d")] }) })).status).toBe(200);
    expect(store.list({ kind: "VirtualService" }).map((r) => r.name)).toEqual(["a", "b", "c", "d"]);
  });

  it("dry run returns the diff with before/after values and writes nothing", async () => {
    const { app, auth, store, log } = await createTestControl();
    await app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml }, body: POLICY_YAML });
    const res = await app.request("/v1/resources?dryRun=true", { method: "POST", headers: { ...auth, ...yaml }, body: POLICY_YAML.replace("action: ALLOW", "action: DENY") });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.dryRun).toBe(true);
    expect(body.changes).toEqual([{ key: "security.istio.io/AuthorizationPolicy/default/allow-frontend", action: "update", changedPaths: ["spec.action"], fields: [{ path: "spec.action", before: "ALLOW", after: "DENY" }] }]);
    expect(store.revision()).toBe(1);
    expect(log.records).toHaveLength(1);
    expect((store.list()[0]!.object.spec as { action: string }).action).toBe("ALLOW");
  });

  it("rejects invalid resources with file:line, object and field, writing nothing of the batch", async () => {
    const { app, auth, store } = await createTestControl();
    const bad = POLICY_YAML.replace(`methods: ["GET"]`, `methods: ["GET"]\n        paths: 42`);
    const res = await app.request("/v1/resources?file=mesh.yaml", { method: "POST", headers: { ...auth, ...yaml }, body: `${SERVICE_ENTRY_YAML}---\n${bad}` });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toMatch(/nothing was written/);
    expect(body.diagnostics).toContainEqual(expect.objectContaining({ severity: "error", file: "mesh.yaml", object: "AuthorizationPolicy/default/allow-frontend", path: "spec.rules[0].to[0].operation.paths", line: 32 }));
    expect(store.list()).toEqual([]);
  });

  it("reports malformed YAML, unknown kinds, duplicates and empty bodies as 400", async () => {
    const { app, auth, store } = await createTestControl();
    const post = (body: string) => app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml }, body });
    const syntax = await post("apiVersion: v1\nkind: [unclosed\n");
    expect(syntax.status).toBe(400);
    expect((await syntax.json()).diagnostics[0]).toMatchObject({ severity: "error", file: "body", message: expect.stringMatching(/YAML syntax/) });
    const unknown = await post("apiVersion: security.istio.io/v1\nkind: authorizationpolicy\nmetadata: {name: x}\nspec: {}\n");
    expect((await unknown.json()).diagnostics[0]).toMatchObject({ path: "kind", line: 2, message: expect.stringMatching(/did you mean "AuthorizationPolicy"/) });
    const dup = await post(`${POLICY_YAML}---\n${POLICY_YAML}`);
    expect(dup.status).toBe(400);
    expect((await dup.json()).diagnostics[0].message).toMatch(/appears twice/);
    const empty = await post("   \n");
    expect(empty.status).toBe(400);
    expect((await post("---\n---\n")).status).toBe(400);
    const scalar = await post("just a string\n");
    expect((await scalar.json()).diagnostics[0].message).toMatch(/must be a mapping/);
    expect(store.revision()).toBe(0);
  });

  it("refuses wrong content types (415) and oversized bodies (413)", async () => {
    const { app, auth } = await createTestControl({ maxBodyBytes: 1024 });
    const form = await app.request("/v1/resources", { method: "POST", headers: { ...auth, "content-type": "application/x-www-form-urlencoded" }, body: POLICY_YAML });
    expect(form.status).toBe(415);
    expect((await form.json()).error).toMatch(/application\/yaml/);
    const none = await app.request("/v1/resources", { method: "POST", headers: auth, body: new Uint8Array([1, 2, 3]) });
    expect(none.status).toBe(415);
    const huge = await app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml }, body: "#".repeat(5000) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({ error: "the request body is larger than the limit of 1024 bytes" });
    const streamed = new ReadableStream<Uint8Array>({
      start(ctrl) {
        for (let i = 0; i < 10; i++) ctrl.enqueue(new TextEncoder().encode("#".repeat(500)));
        ctrl.close();
      },
    });
    const chunked = await app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml }, body: streamed, duplex: "half" } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it("validates without writing", async () => {
    const { app, auth, store } = await createTestControl();
    const ok = await (await app.request("/v1/resources/validate", { method: "POST", headers: { ...auth, ...yaml }, body: POLICY_YAML })).json();
    expect(ok).toMatchObject({ valid: true, objects: 1, errors: 0, changes: [{ action: "create" }] });
    const bad = await app.request("/v1/resources/validate", { method: "POST", headers: { ...auth, ...yaml }, body: POLICY_YAML.replace("action: ALLOW", "action: PERMIT") });
    expect(bad.status).toBe(200);
    expect(await bad.json()).toMatchObject({ valid: false, objects: 1, errors: 1, diagnostics: [{ path: "spec.action", line: 10 }] });
    expect(store.revision()).toBe(0);
  });

  it("deletes, with dry run, 404 for missing objects and 409 on a stale expectRevision", async () => {
    const { app, auth, store } = await createTestControl();
    await app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml }, body: POLICY_YAML });
    const path = "/v1/resources/AuthorizationPolicy/default/allow-frontend";
    const dry = await (await app.request(`${path}?dryRun=true`, { method: "DELETE", headers: auth })).json();
    expect(dry).toMatchObject({ dryRun: true, changes: [{ action: "delete" }] });
    expect(store.list()).toHaveLength(1);
    const stale = await app.request(`${path}?expectRevision=0`, { method: "DELETE", headers: auth });
    expect(stale.status).toBe(409);
    expect((await stale.json()).error).toMatch(/revision 1, not 0/);
    const del = await app.request(`${path}?expectRevision=1`, { method: "DELETE", headers: auth });
    expect(del.status).toBe(200);
    expect(store.list()).toEqual([]);
    expect((await app.request(path, { method: "DELETE", headers: auth })).status).toBe(404);
    const missing = await app.request(path, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "AuthorizationPolicy/default/allow-frontend not found" });
    const hist = await (await app.request(`${path}/history`, { headers: auth })).json();
    expect(hist.entries.map((e: { type: string }) => e.type)).toEqual(["PUT", "DELETE"]);
    expect((await app.request("/v1/resources/AuthorizationPolicy/default/never/history", { headers: auth })).status).toBe(404);
  });

  it("answers 409 on apply with a stale expectRevision and 400 on bad query values", async () => {
    const { app, auth } = await createTestControl();
    const post = (q: string) => app.request(`/v1/resources${q}`, { method: "POST", headers: { ...auth, ...yaml }, body: POLICY_YAML });
    expect((await post("?expectRevision=5")).status).toBe(409);
    const badBool = await post("?dryRun=maybe");
    expect(badBool.status).toBe(400);
    expect((await badBool.json()).error).toMatch(/dryRun/);
    expect((await post("?expectRevision=-1")).status).toBe(400);
    expect((await post("?expectRevision=0")).status).toBe(200);
  });

  it("never answers garbage with a 5xx and never loses accepted config (property)", async () => {
    const { app, auth, store, internalErrors } = await createTestControl();
    await app.request("/v1/resources", { method: "POST", headers: { ...auth, ...yaml }, body: `${POLICY_YAML}---\n${SERVICE_ENTRY_YAML}` });
    const serviceEntry = JSON.stringify(store.list({ kind: "ServiceEntry" }));
    const mutated = fc.tuple(fc.nat(POLICY_YAML.length - 1), fc.string({ maxLength: 8 })).map(([at, s]) => POLICY_YAML.slice(0, at) + s + POLICY_YAML.slice(at + s.length));
    const body = fc.oneof(fc.string({ maxLength: 300 }), fc.json(), mutated, fc.constantFrom("- - -\n", "{", "[1,2", "!!binary x", "a: &a [*a]", "---\nkind: List\nitems: 3\n"));
    const type = fc.constantFrom("application/yaml", "application/json", "text/yaml", "text/plain", "");
    const path = fc.constantFrom("/v1/resources", "/v1/resources?dryRun=true", "/v1/resources/validate");
    await fc.assert(fc.asyncProperty(body, type, path, async (text, contentType, url) => {
      const revision = store.revision();
      const res = await app.request(url, { method: "POST", headers: { ...auth, ...(contentType ? { "content-type": contentType } : {}) }, body: text });
      expect(res.status).toBeLessThan(500);
      const out = await res.json();
      if (res.status >= 400) {
        expect(typeof out.error).toBe("string");
        expect(store.revision()).toBe(revision);
      }
    }), { numRuns: 300 });
    expect(internalErrors).toEqual([]);
    expect(JSON.stringify(store.list({ kind: "ServiceEntry" }))).toBe(serviceEntry);
    expect(store.list({ kind: "AuthorizationPolicy" }).length).toBeGreaterThan(0);
  });
});
