import { describe, expect, it } from "vitest";
import { createTestStream, type TestStreamInit } from "../common/testing.ts";
import { IMPERSONATION_KEY, RESPONSE_CODE_DETAILS_KEY } from "../common/metadata.ts";
import { impersonationFilter } from "./index.ts";
import { identityKey } from "./dn.ts";

const EDGE = "CN=edge.acme.example,OU=Servers,O=Acme,C=US";
const PARTNER = "CN=gateway.partner.example,O=Partner,C=GB";
const USER = "CN=Alice Smith,OU=People,O=Acme,C=US";
const SPIFFE_EDGE = "spiffe://cluster.local/ns/edge/sa/edge";

const filter = impersonationFilter.create(impersonationFilter.schema.parse({ servers: [EDGE, PARTNER, SPIFFE_EDGE] }), { now: () => 0, random: () => 0, log: () => undefined });

async function run(init: TestStreamInit, peerSubject?: string) {
  const stream = createTestStream({ ...init, ...(peerSubject ? { connection: { peerSubject } } : {}) });
  const reply = await filter.onRequest!(stream);
  return { reply, stream, result: stream.metadata.get(IMPERSONATION_KEY) };
}

describe("distinguished names", () => {
  it("compares DNs in RFC 4514 or OpenSSL form, either order, ignoring case and spaces", () => {
    expect(identityKey("CN=Alice Smith, OU=People,O=Acme,C=US")).toBe(identityKey("/C=US/O=Acme/OU=People/CN=alice smith"));
    expect(identityKey("cn=a\\,b,o=x")).toBe(identityKey("O=X,CN=A\\,B"));
    expect(identityKey("CN=a,O=x")).not.toBe(identityKey("CN=a,O=y"));
    expect(identityKey("not a dn")).toBeUndefined();
  });
});

describe("impersonation filter", () => {
  it("lets a whitelisted server act for USER_DN and forwards the effective user", async () => {
    const { reply, stream, result } = await run({ headers: { USER_DN: USER } }, "/C=US/O=Acme/OU=Servers/CN=edge.acme.example");
    expect(reply).toBeUndefined();
    expect(stream.headers.get("user_dn")).toBe(USER);
    expect(result).toEqual({ user: USER, peer: "/C=US/O=Acme/OU=Servers/CN=edge.acme.example", impersonated: true });
  });

  it("refuses USER_DN from a peer that is not whitelisted", async () => {
    const { reply, stream } = await run({ headers: { USER_DN: USER } }, "CN=laptop,O=Acme,C=US");
    expect(reply).toMatchObject({ status: 403 });
    expect(stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("impersonation_denied{peer_not_whitelisted}");
  });

  it("with EXTERNAL_SYS_DN requires both the external system and the peer on the whitelist", async () => {
    expect((await run({ headers: { USER_DN: USER, EXTERNAL_SYS_DN: PARTNER } }, EDGE)).reply).toBeUndefined();
    const unknownSystem = await run({ headers: { USER_DN: USER, EXTERNAL_SYS_DN: "CN=evil,O=Evil" } }, EDGE);
    expect(unknownSystem.reply?.status).toBe(403);
    expect(unknownSystem.stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("impersonation_denied{external_system_not_whitelisted}");
    expect((await run({ headers: { USER_DN: USER, EXTERNAL_SYS_DN: PARTNER } }, "CN=laptop,O=Acme")).reply?.status).toBe(403);
  });

  it("without USER_DN makes the peer itself the user", async () => {
    const { reply, stream, result } = await run({}, "CN=laptop,O=Acme,C=US");
    expect(reply).toBeUndefined();
    expect(stream.headers.get("USER_DN")).toBe("CN=laptop,O=Acme,C=US");
    expect(result).toMatchObject({ user: "CN=laptop,O=Acme,C=US", impersonated: false });
  });

  it("uses the SPIFFE ID when the host gives no certificate subject", async () => {
    expect((await run({ principal: SPIFFE_EDGE, headers: { USER_DN: USER } })).result).toMatchObject({ user: USER, peer: SPIFFE_EDGE });
    expect((await run({ principal: "spiffe://cluster.local/ns/x/sa/y", headers: { USER_DN: USER } })).reply?.status).toBe(403);
  });

  it("refuses USER_DN over plaintext, and passes plaintext without it", async () => {
    expect((await run({ headers: { USER_DN: USER } })).reply?.status).toBe(403);
    const plain = await run({});
    expect(plain.reply).toBeUndefined();
    expect(plain.result).toBeUndefined();
  });

  it("drops a forged copy of a separate forward header", async () => {
    const f = impersonationFilter.create(impersonationFilter.schema.parse({ servers: [EDGE], forwardHeader: "x-effective-user" }), { now: () => 0, random: () => 0, log: () => undefined });
    const plain = createTestStream({ headers: { "x-effective-user": "CN=admin" } });
    expect(await f.onRequest!(plain)).toBeUndefined();
    expect(plain.headers.get("x-effective-user")).toBeUndefined();
  });

  it("rejects a whitelist entry that is neither a DN nor a SPIFFE ID", () => {
    const r = impersonationFilter.schema.safeParse({ servers: ["edge server"] });
    expect(r.error?.issues[0]?.path).toEqual(["servers", 0]);
  });
});
