import { beforeAll, describe, expect, it } from "vitest";
import { buildFilterChain, createFilterCatalog, type FilterStream, type HttpFilter, type LocalReply } from "../proxy/filter.ts";
import { httpFilters } from "./registry.ts";
import { createTestContext, createTestStream, type TestStreamInit } from "./common/testing.ts";
import { IMPERSONATION_KEY } from "./common/metadata.ts";
import { createTestKey, jwksText, sign, type TestKey } from "./jwt-authn/test-keys.ts";

const ISS = "https://issuer.example";
let key: TestKey;
beforeAll(async () => {
  key = await createTestKey("k1", "ES256");
});

async function runChain(filters: HttpFilter[], stream: FilterStream): Promise<LocalReply | undefined> {
  for (const f of filters) {
    const v = await f.onRequest?.(stream);
    if (v !== undefined) return v;
  }
  return undefined;
}

describe("plugin registry", () => {
  it("lists every plugin once, each with a schema and runtimes", () => {
    expect([...httpFilters.keys()].sort()).toEqual(["cors", "envoy.filters.http.rbac", "fault", "header-mutation", "impersonation", "jwt-authn", "local-rate-limit", "rbac", "router"]);
    for (const f of httpFilters.values()) expect(f.runtimes.length).toBeGreaterThan(0);
  });

  it("reports a bad filter config with its field path through the catalog", () => {
    const catalog = createFilterCatalog(httpFilters);
    expect(catalog.validate("local-rate-limit", { tokenBucket: { maxTokens: 0, fillInterval: "1s" } })).toEqual([
      expect.objectContaining({ path: ["tokenBucket", "maxTokens"] }),
    ]);
    expect(catalog.validate("cors", {})).toEqual([]);
    expect(catalog.validate("no-such-filter", {})).toBeUndefined();
  });

  it("chains impersonation, jwt-authn and rbac: policies see the mTLS peer, the JWT and the effective user", async () => {
    const ctx = createTestContext();
    const filters = buildFilterChain([
      { name: "impersonation", config: { servers: ["spiffe://cluster.local/ns/edge/sa/edge"] } },
      { name: "jwt-authn", config: { jwtRules: [{ issuer: ISS, jwks: jwksText(key) }] } },
      {
        name: "rbac",
        config: {
          namespace: "foo",
          policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api, namespace: foo}
spec:
  rules:
  - from: [{source: {principals: ["cluster.local/ns/edge/sa/edge"], requestPrincipals: ["${ISS}/*"]}}]
    when: [{key: "request.headers[user_dn]", values: ["CN=alice,O=Acme"]}]
`,
        },
      },
      { name: "router", config: {} },
    ], httpFilters, ctx);
    expect(filters.map((f) => f.name)).toEqual(["impersonation", "jwt-authn", "rbac"]);
    const token = await sign(key, { iss: ISS, sub: "svc" }, ctx.time);
    const edge = (init: TestStreamInit) => createTestStream({ principal: "spiffe://cluster.local/ns/edge/sa/edge", ...init });
    const ok = edge({ headers: { authorization: `Bearer ${token}`, user_dn: "CN=alice,O=Acme" } });
    expect(await runChain(filters, ok)).toBeUndefined();
    expect(ok.metadata.get(IMPERSONATION_KEY)).toMatchObject({ user: "CN=alice,O=Acme", impersonated: true });
    expect((await runChain(filters, edge({ headers: { user_dn: "CN=alice,O=Acme" } })))?.status).toBe(403);
    expect((await runChain(filters, edge({ headers: { authorization: `Bearer ${token}`, user_dn: "CN=bob,O=Acme" } })))?.status).toBe(403);
    expect((await runChain(filters, edge({ headers: { authorization: "Bearer junk" } })))?.status).toBe(401);
    const stranger = createTestStream({ principal: "spiffe://cluster.local/ns/x/sa/x", headers: { authorization: `Bearer ${token}`, user_dn: "CN=alice,O=Acme" } });
    expect((await runChain(filters, stranger))?.body).toBe("impersonation denied");
  });
});
