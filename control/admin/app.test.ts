import { describe, expect, it } from "vitest";
import { timingSafeEqualString } from "./auth.ts";
import { openApiDocument } from "./openapi.ts";
import { POLICY_YAML, TEST_TOKEN, createTestControl } from "./test-fixtures.ts";

/** Every route the app registers, as OpenAPI `METHOD /path/{param}` (middleware excluded). */
function registeredRoutes(app: Awaited<ReturnType<typeof createTestControl>>["app"]): string[] {
  return [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/$/, "$1")}`))].sort();
}

function documentedRoutes(): string[] {
  return Object.entries(openApiDocument.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
}

const concrete = (path: string) => path.replace(/\{(\w+)\}/g, "x");
const PUBLIC = ["GET /healthz", "GET /ui", "GET /ui/app.js", "GET /v1/ca/bundle", "POST /v1/ca/svid"];

describe("admin API: auth, errors, OpenAPI", () => {
  it("documents exactly the routes it serves (validity against the OpenAPI 3.1 schema: openapi.node.test.ts)", async () => {
    const { app } = await createTestControl();
    expect(registeredRoutes(app)).toEqual(documentedRoutes());
  });

  it("serves the document to admins only", async () => {
    const { app, auth } = await createTestControl();
    expect((await app.request("/openapi.json")).status).toBe(401);
    const res = await app.request("/openapi.json", { headers: auth });
    expect((await res.json()).openapi).toBe("3.1.0");
  });

  it("refuses every non-public route without the admin token (401), with a wrong one (401) and a non-bearer scheme", async () => {
    const { app, store } = await createTestControl();
    const protectedRoutes = documentedRoutes().filter((r) => !PUBLIC.includes(r));
    expect(protectedRoutes.length).toBeGreaterThan(15);
    for (const route of protectedRoutes) {
      const [method, path] = route.split(" ") as [string, string];
      for (const headers of [{} as Record<string, string>, { authorization: "Bearer wrong-token-123" }, { authorization: `Basic ${btoa(`admin:${TEST_TOKEN}`)}` }, { authorization: `Bearer ${TEST_TOKEN}x` }]) {
        const res = await app.request(concrete(path), { method, headers: { ...headers, "content-type": "application/yaml" }, ...(method === "POST" ? { body: POLICY_YAML } : {}) });
        expect(res.status, `${route} with ${JSON.stringify(headers)}`).toBe(401);
        expect((await res.json()).error).toMatch(/admin (token|credentials)/);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      }
    }
    expect(store.revision()).toBe(0);
    expect((await app.request("/no/such/route")).status).toBe(401); // no route discovery without a token
  });

  it("serves the public routes without a token", async () => {
    const { app } = await createTestControl();
    expect(await (await app.request("/healthz")).json()).toEqual({ ok: true });
    expect((await app.request("/ui")).status).toBe(200);
    expect((await app.request("/ui/app.js")).status).toBe(200);
    expect((await app.request("/v1/ca/bundle")).status).toBe(200);
  });

  it("answers unknown routes with a JSON 404 and internal failures with a JSON 500, and keeps serving", async () => {
    const { app, auth, store, internalErrors } = await createTestControl();
    const nf = await app.request("/v1/nope", { headers: auth });
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: "no route for GET /v1/nope" });
    const broken = await createTestControl({ store: { ...store, list: () => { throw new Error("disk on fire"); } } });
    const res = await broken.app.request("/v1/resources", { headers: auth });
    expect(res.status).toBe(500);
    expect((await res.json()).error).toMatch(/internal error/);
    expect(broken.internalErrors).toHaveLength(1);
    expect(internalErrors).toHaveLength(0);
    expect((await broken.app.request("/healthz")).status).toBe(200);
  });

  it("refuses admin tokens shorter than 8 characters", async () => {
    await expect(createTestControl({ adminToken: "short" })).rejects.toThrow(/at least 8/);
  });

  it("compares tokens by value whatever their lengths", async () => {
    expect(await timingSafeEqualString("abc", "abc")).toBe(true);
    expect(await timingSafeEqualString("abc", "abd")).toBe(false);
    expect(await timingSafeEqualString("abc", "abcd")).toBe(false);
    expect(await timingSafeEqualString("", "")).toBe(true);
  });
});
