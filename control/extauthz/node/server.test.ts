// The ext_authz server over real gRPC (HTTP/2, loopback port 0), called by a connect-node client built
// from Envoy's generated protos with CheckRequests shaped as Envoy sends them: plaintext and TLS, a
// policy set from files, and one following the config store live.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { PeerCertificate } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { Authorization } from "../../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import { authorizationPoliciesFromYaml } from "../../../core/policy/index.ts";
import { parse as parseYaml } from "yaml";
import { createCertificateAuthority } from "../../ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../ca/keys.ts";
import { createConfigStore } from "../../store/store.ts";
import type { DurableLog, LogRecord } from "../../store/types.ts";
import { POLICY_HEADER } from "../check-response.ts";
import { createStaticPolicySource, createStorePolicySource } from "../policy-source.ts";
import { envoyCheckRequest } from "../testing.ts";
import { CHECK_PATH, startExtAuthzServer, type ExtAuthzNodeServer } from "./server.ts";
import * as http2 from "node:http2";
import { toBinary } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";

const SLEEP = "spiffe://cluster.local/ns/sleep/sa/sleep";
const HTTPBIN = "spiffe://cluster.local/ns/foo/sa/httpbin";
const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: httpbin, namespace: foo}
spec:
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/sleep/sa/sleep"]}}]
    to: [{operation: {methods: ["GET"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-admin, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin/*"]}}]
`;

let server: ExtAuthzNodeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const clientFor = (baseUrl: string, nodeOptions?: Record<string, unknown>) =>
  createClient(Authorization, createGrpcTransport({ baseUrl, ...(nodeOptions ? { nodeOptions } : {}) }));

describe("ext_authz server over gRPC", () => {
  it("answers Envoy-shaped checks: allow, deny by DENY policy, deny by no ALLOW match, fail closed", async () => {
    const { policies, diagnostics } = authorizationPoliciesFromYaml(POLICY);
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const seen: string[] = [];
    server = await startExtAuthzServer({ policies: createStaticPolicySource(policies), onDecision: (_r, d) => seen.push(d?.decision ?? "none") });
    const client = clientFor(`http://${server.address}`);
    const dest = { principal: HTTPBIN };

    const ok = await client.check(envoyCheckRequest({ source: { principal: SLEEP }, destination: dest, path: "/headers?a=1", protocol: "HTTP/2" }));
    expect(ok.status?.code).toBe(0);
    expect(ok.httpResponse.case).toBe("okResponse");
    expect(ok.httpResponse.case === "okResponse" && ok.httpResponse.value.headers[0]?.header).toMatchObject({ key: POLICY_HEADER, value: "foo/httpbin" });
    expect(ok.dynamicMetadata).toMatchObject({ "weft.decision": "allow", "weft.policy": "foo/httpbin" });

    const admin = await client.check(envoyCheckRequest({ source: { principal: SLEEP }, destination: dest, path: "/admin/users" }));
    expect(admin.status?.code).toBe(7);
    expect(admin.httpResponse.case === "deniedResponse" && admin.httpResponse.value.status?.code).toBe(403);
    expect(admin.httpResponse.case === "deniedResponse" && admin.httpResponse.value.headers[0]?.header?.value).toBe("istio-system/no-admin");

    const post = await client.check(envoyCheckRequest({ source: { principal: SLEEP }, destination: dest, method: "POST" }));
    expect(post.status?.code).toBe(7);
    const anonymous = await client.check(envoyCheckRequest({ destination: dest }));
    expect(anonymous.status?.code).toBe(7);
    const unknown = await client.check(envoyCheckRequest({ source: { principal: SLEEP } }));
    expect(unknown.status?.code).toBe(7);
    expect(unknown.status?.message).toMatch(/workload unknown/);
    expect(seen).toEqual(["allow", "deny", "deny", "deny", "none"]);
  });

  it("serves over TLS, verified against the CA", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const keys = await generateKeyPair();
    const id = "spiffe://cluster.local/ns/weft-system/sa/weft-authz";
    const svid = await ca.issue({ spiffeId: id, publicKey: keys.publicKey });
    const bundle = ca.trustBundle().join("");
    const { policies } = authorizationPoliciesFromYaml(POLICY);
    server = await startExtAuthzServer({
      policies: createStaticPolicySource(policies),
      tls: { certPem: svid.chainPem.slice(0, 2).join(""), keyPem: await privateKeyToPem(keys.privateKey) },
    });
    const checkServerIdentity = (_h: string, cert: PeerCertificate) => (cert.subjectaltname === `URI:${id}` ? undefined : new Error("wrong server"));
    const client = clientFor(`https://${server.address}`, { ca: bundle, checkServerIdentity });
    const res = await client.check(envoyCheckRequest({ source: { principal: SLEEP }, destination: { principal: HTTPBIN } }));
    expect(res.status?.code).toBe(0);
    // A client that does not trust the CA fails the handshake.
    await expect(clientFor(`https://${server.address}`).check(envoyCheckRequest())).rejects.toThrow();
  });

  it("follows the config store: a new DENY policy applies to the next check", async () => {
    const records: LogRecord[] = [];
    const log: DurableLog = {
      readAll: async () => [...records], append: async (r) => void records.push(r),
      compact: async (s) => void records.splice(0, records.length, s), close: async () => undefined,
    };
    const store = await createConfigStore({ log, validate: () => [] });
    const docs = POLICY.split("---").map((d) => parseYaml(d) as Record<string, unknown>);
    await store.apply([docs[0]!]);
    const source = createStorePolicySource(store);
    server = await startExtAuthzServer({ policies: source });
    const client = clientFor(`http://${server.address}`);
    const req = envoyCheckRequest({ source: { principal: SLEEP }, destination: { principal: HTTPBIN }, path: "/admin/x" });
    expect((await client.check(req)).status?.code).toBe(0);
    await store.apply([docs[1]!]);
    const after = await client.check(req);
    expect(after.status?.code).toBe(7);
    expect(after.dynamicMetadata).toMatchObject({ "weft.policy": "istio-system/no-admin" });
    source.close();
  });

  it("answers Check identically on the lean unary path and on connect-node", async () => {
    const { policies } = authorizationPoliciesFromYaml(POLICY);
    const fast = await startExtAuthzServer({ policies: createStaticPolicySource(policies) });
    const slow = await startExtAuthzServer({ policies: createStaticPolicySource(policies), fastPath: false });
    try {
      const reqs = [
        envoyCheckRequest({ source: { principal: SLEEP }, destination: { principal: HTTPBIN }, path: "/get" }),
        envoyCheckRequest({ source: { principal: SLEEP }, destination: { principal: HTTPBIN }, path: "/admin/x" }),
        envoyCheckRequest({ source: { principal: SLEEP } }),
      ];
      for (const r of reqs) {
        const a = await clientFor(`http://${fast.address}`).check(r);
        const b = await clientFor(`http://${slow.address}`).check(r);
        expect(a).toEqual(b);
      }
    } finally {
      await fast.close();
      await slow.close();
    }
  });

  it("refuses malformed gRPC frames with the right status and keeps serving", async () => {
    const { policies } = authorizationPoliciesFromYaml(POLICY);
    server = await startExtAuthzServer({ policies: createStaticPolicySource(policies) });
    const session = http2.connect(`http://${server.address}`);
    const call = (body: Buffer, contentType = "application/grpc") => new Promise<{ status?: string; message?: string; http: number }>((resolve, reject) => {
      const st = session.request({ ":method": "POST", ":path": CHECK_PATH, "content-type": contentType, te: "trailers" });
      let http = 0, status: string | undefined, message: string | undefined;
      st.on("response", (h) => {
        http = Number(h[":status"]);
        status ??= h["grpc-status"] as string | undefined;
        message ??= h["grpc-message"] as string | undefined;
      });
      st.on("trailers", (t) => {
        status = t["grpc-status"] as string;
        message = t["grpc-message"] as string | undefined;
      });
      st.on("data", () => undefined);
      st.on("end", () => resolve({ status, message, http }));
      st.on("error", reject);
      st.end(body);
    });
    const framed = (flag: number, msg: Uint8Array) => {
      const f = Buffer.alloc(5 + msg.length);
      f[0] = flag;
      f.writeUInt32BE(msg.length, 1);
      f.set(msg, 5);
      return f;
    };
    try {
      const good = toBinary(CheckRequestSchema, envoyCheckRequest({ source: { principal: SLEEP }, destination: { principal: HTTPBIN } }));
      expect(await call(framed(1, good))).toMatchObject({ http: 200, status: "12" });
      expect(await call(Buffer.from([0, 0]))).toMatchObject({ status: "3", message: "missing gRPC message frame" });
      expect(await call(Buffer.concat([framed(0, good), framed(0, good)]))).toMatchObject({ status: "3" });
      const garbage = await call(framed(0, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])));
      expect(garbage.status).toBe("3");
      expect(decodeURIComponent(garbage.message ?? "")).toMatch(/cannot decode CheckRequest/);
      expect(await call(framed(0, good))).toMatchObject({ http: 200, status: "0" });
    } finally {
      session.close();
    }
  });
});
