import { describe, expect, it } from "vitest";
import { createTestContext, createTestStream } from "../common/testing.ts";
import { JWT_AUTHN_KEY, RBAC_KEY, RESPONSE_CODE_DETAILS_KEY, type JwtAuthnResult, type RbacRecord } from "../common/metadata.ts";
import { rbacFilter } from "./index.ts";
import type { CustomProvider } from "./config.ts";
import type { FilterStream, LocalReply } from "../../proxy/filter.ts";

const policies = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: foo}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-sleep, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/sleep/sa/sleep"]}}]
  - from: [{source: {requestPrincipals: ["https://issuer.example/alice"]}}]
    when: [{key: "request.auth.claims[scope]", values: ["read"]}]
  - from: [{source: {remoteIpBlocks: ["203.0.113.0/24"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit-all, namespace: foo}
spec: {action: AUDIT, rules: [{}]}
`;

const make = (extra: Record<string, unknown> = {}) => {
  const ctx = createTestContext();
  const cfg = rbacFilter.schema.parse({ policies, namespace: "foo", labels: { app: "httpbin" }, ...extra });
  return { filter: rbacFilter.create(cfg, ctx), ctx };
};

const SLEEP = "spiffe://cluster.local/ns/sleep/sa/sleep";
const jwt = (claims: Record<string, unknown>): JwtAuthnResult => ({
  iss: "https://issuer.example", sub: "alice", aud: [], azp: undefined, principal: "https://issuer.example/alice", claims, rule: 0,
});

async function run(filter: ReturnType<typeof make>["filter"], stream: FilterStream): Promise<LocalReply | undefined> {
  return await filter.onRequest!(stream);
}

describe("rbac filter", () => {
  it("allows the mTLS principal the ALLOW policy names, and records the decision", async () => {
    const { filter } = make();
    const stream = createTestStream({ path: "/get", principal: SLEEP });
    expect(await run(filter, stream)).toBeUndefined();
    expect(stream.metadata.get(RBAC_KEY)).toMatchObject({ decision: "allow", policy: "foo/allow-sleep", rule: 0, accessLogHint: true, auditPolicies: ["foo/audit-all"] });
  });

  it("denies others with 403 RBAC: access denied and Envoy's response code details", async () => {
    const { filter } = make();
    const stream = createTestStream({ path: "/get", principal: "spiffe://cluster.local/ns/other/sa/x" });
    const reply = await run(filter, stream);
    expect(reply).toMatchObject({ status: 403, body: "RBAC: access denied", details: "rbac_access_denied_matched_policy[none]" });
    expect(stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("rbac_access_denied_matched_policy[none]");
  });

  it("names the DENY policy rule that matched", async () => {
    const { filter } = make();
    const stream = createTestStream({ path: "/admin/users", principal: SLEEP });
    expect((await run(filter, stream))?.status).toBe(403);
    expect(stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]");
    expect((stream.metadata.get(RBAC_KEY) as RbacRecord).action).toBe("DENY");
  });

  it("matches a DENY path after normalization (/x/../admin)", async () => {
    const { filter } = make();
    expect((await run(filter, createTestStream({ path: "/x/../admin", principal: SLEEP })))?.status).toBe(403);
  });

  it("uses the JWT that jwt-authn stored: request principal and space-delimited scope", async () => {
    const { filter } = make();
    const ok = createTestStream({ path: "/get", metadata: { [JWT_AUTHN_KEY]: jwt({ scope: ["read", "write"] }) } });
    expect(await run(filter, ok)).toBeUndefined();
    const noScope = createTestStream({ path: "/get", metadata: { [JWT_AUTHN_KEY]: jwt({ scope: ["write"] }) } });
    expect((await run(filter, noScope))?.status).toBe(403);
  });

  it("takes remoteIpBlocks from X-Forwarded-For only with trusted hops", async () => {
    const headers = { "x-forwarded-for": "203.0.113.9, 10.1.1.1" };
    expect((await run(make().filter, createTestStream({ headers, remoteAddress: "10.0.0.7" })))?.status).toBe(403);
    expect(await run(make({ xffNumTrustedHops: 2 }).filter, createTestStream({ headers, remoteAddress: "::ffff:10.0.0.7" }))).toBeUndefined();
  });

  it("ignores policies whose selector does not match the workload", async () => {
    const { filter } = make({ labels: { app: "other" } });
    expect(await run(filter, createTestStream({ path: "/get" }))).toBeUndefined();
  });

  it("accepts policy objects as well as YAML, defaulting their namespace to the workload's", async () => {
    const ctx = createTestContext();
    const cfg = rbacFilter.schema.parse({
      namespace: "bar",
      policies: [{ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "deny-post" }, spec: { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"] } }] }] } }],
    });
    const filter = rbacFilter.create(cfg, ctx);
    const stream = createTestStream({ method: "POST" });
    expect((await filter.onRequest!(stream))?.status).toBe(403);
    expect(stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("rbac_access_denied_matched_policy[ns[bar]-policy[deny-post]-rule[0]]");
  });

  it("rejects a bad policy when the config is validated, naming the field", () => {
    const r = rbacFilter.schema.safeParse({ namespace: "foo", policies: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: bad, namespace: foo}\nspec: {action: DENY}\n" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/rbac\.policies:\d+.*AuthorizationPolicy\/foo\/bad.*spec\.rules/);
  });

  it("records dry-run policies without enforcing them", async () => {
    const ctx = createTestContext();
    const cfg = rbacFilter.schema.parse({
      namespace: "foo",
      policies: [{ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "dry", namespace: "foo", annotations: { "istio.io/dry-run": "true" } }, spec: { action: "DENY", rules: [{}] } }],
    });
    const stream = createTestStream();
    expect(await rbacFilter.create(cfg, ctx).onRequest!(stream)).toBeUndefined();
    expect((stream.metadata.get(RBAC_KEY) as RbacRecord).dryRun).toEqual([{ policy: "foo/dry", action: "DENY", matched: true }]);
  });
});

describe("rbac CUSTOM providers", () => {
  const custom = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: foo}
spec:
  action: CUSTOM
  provider: {name: opa}
  rules: [{to: [{operation: {paths: ["/ext/*"]}}]}]
`;
  const build = (provider: CustomProvider | undefined, failOpen = false) => {
    const ctx = createTestContext();
    const cfg = rbacFilter.schema.parse({ namespace: "foo", policies: custom, failOpen, ...(provider ? { customProviders: { opa: provider } } : {}) });
    return { filter: rbacFilter.create(cfg, ctx), ctx };
  };

  it("asks the provider only for requests the CUSTOM policy matches", async () => {
    const asked: string[] = [];
    const { filter } = build(async (r) => {
      asked.push(r.request.http!.path);
      return { allow: true, headers: { "x-ext-user": "u1" } };
    });
    expect(await run(filter, createTestStream({ path: "/other" }))).toBeUndefined();
    const stream = createTestStream({ path: "/ext/a" });
    expect(await run(filter, stream)).toBeUndefined();
    expect(asked).toEqual(["/ext/a"]);
    expect(stream.headers.get("x-ext-user")).toBe("u1");
    expect((stream.metadata.get(RBAC_KEY) as RbacRecord).custom).toEqual({ provider: "opa", policy: "foo/ext", result: "allow" });
  });

  it("answers the provider's denial with flag UAEX", async () => {
    const { filter } = build(async () => ({ allow: false, status: 401, body: "no", headers: { "www-authenticate": "Basic" } }));
    const stream = createTestStream({ path: "/ext/a" });
    expect(await run(filter, stream)).toEqual({ status: 401, body: "no", headers: { "www-authenticate": "Basic" }, flag: "UAEX", details: "ext_authz_denied" });
    expect(stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("ext_authz_denied");
    expect((stream.metadata.get(RBAC_KEY) as RbacRecord)).toMatchObject({ decision: "deny", action: "CUSTOM", policy: "foo/ext" });
  });

  it("fails closed on a provider error, open with failOpen", async () => {
    const failing: CustomProvider = () => Promise.reject(new Error("connection refused"));
    const closed = createTestStream({ path: "/ext/a" });
    expect(await run(build(failing).filter, closed)).toMatchObject({ status: 403, flag: "UAEX" });
    expect((closed.metadata.get(RBAC_KEY) as RbacRecord).custom).toMatchObject({ result: "error", error: "connection refused" });
    expect(await run(build(failing, true).filter, createTestStream({ path: "/ext/a" }))).toBeUndefined();
  });

  it("denies when the host supplied no provider of that name, and says so at build time", async () => {
    const { filter, ctx } = build(undefined);
    expect(await run(filter, createTestStream({ path: "/ext/a" }))).toMatchObject({ status: 403, flag: "UAEX" });
    expect(ctx.logs.join("\n")).toMatch(/provider "opa", which the host did not supply/);
  });
});

describe("destination port and address", () => {
  const byPort = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: by-port, namespace: foo}
spec:
  rules: [{to: [{operation: {ports: ["8080"]}}], when: [{key: destination.ip, values: ["10.0.0.0/8"]}]}]
`;
  const decide = async (extra: Record<string, unknown>, connection: Record<string, unknown>) => {
    const filter = rbacFilter.create(rbacFilter.schema.parse({ policies: byPort, namespace: "foo", ...extra }), createTestContext());
    const reply = await filter.onRequest!(createTestStream({ connection }));
    return reply === undefined ? "allow" : (reply as LocalReply).status;
  };
  it("come from the connection's local side unless configured", async () => {
    expect(await decide({}, { localAddress: "::ffff:10.0.0.9", localPort: 8080 })).toBe("allow");
    expect(await decide({}, { localAddress: "10.0.0.9", localPort: 8081 })).toBe(403);
    expect(await decide({}, { localAddress: "192.168.0.1", localPort: 8080 })).toBe(403);
    expect(await decide({}, {})).toBe(403);
    expect(await decide({ port: 8080, destinationIp: "10.0.0.1" }, { localAddress: "192.168.0.1", localPort: 9000 })).toBe("allow");
  });
});
