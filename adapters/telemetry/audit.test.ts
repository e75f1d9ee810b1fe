import { describe, expect, it } from "vitest";
import { actionFor, createAuditor, createLineSink, originatorTokens, type AuditFinish } from "./audit.ts";

function ids(...list: string[]): () => string {
  let i = 0;
  return () => list[i++]!;
}

const done: AuditFinish = {
  method: "PUT", path: "/objects/7?v=2", status: 204,
  requestHeaders: [["Host", "svc"], ["Authorization", "Bearer secret"], ["X-Trace", "a"], ["x-trace", "b"]],
  responseHeaders: [["Set-Cookie", "s=1"], ["Content-Type", "text/plain"]],
  forwardedFor: "203.0.113.9, 10.0.0.1", originators: ["CN=alice,O=example"],
};

describe("audit events (Grey Matter observables)", () => {
  it("maps methods to actions", () => {
    expect(["POST", "GET", "HEAD", "PUT", "PATCH", "DELETE", "options"].map(actionFor))
      .toEqual(["create", "read", "read", "update", "update", "delete", "read"]);
  });

  it("starts a chain, or appends to the one the caller sent, and gives the header to forward", () => {
    const auditor = createAuditor({ topic: "t", systemIp: "10.0.0.7", randomUUID: ids("e1", "e2", "e3") });
    const first = auditor.start(() => undefined);
    expect(first).toEqual({ eventId: "e1", eventChain: ["e1"], chainHeader: "x-event-chain", chainHeaderValue: "e1" });
    const second = auditor.start((n) => (n === "x-event-chain" ? first.chainHeaderValue : undefined));
    expect(second.eventChain).toEqual(["e1", "e2"]);
    const hostile = auditor.start(() => "ok-1, bad id, <script>, ok-2");
    expect(hostile.eventChain).toEqual(["ok-1", "ok-2", "e3"]);
  });

  it("builds the event with Grey Matter's fields, redacted credentials and the first X-Forwarded-For address", () => {
    const auditor = createAuditor({ topic: "reviews-prod", systemIp: "10.0.0.7", randomUUID: ids("e1"), now: () => 1_795_316_400_999 });
    const event = auditor.finish(auditor.start(() => "up-1"), done);
    expect(event).toEqual({
      eventId: "e1", eventChain: ["up-1", "e1"], schemaVersion: "1.0", eventType: "reviews-prod", originatorToken: ["CN=alice,O=example"],
      systemIp: "10.0.0.7", xForwardedForIp: "203.0.113.9", action: "update", timestamp: 1_795_316_400,
      payload: {
        isSuccessful: true,
        request: { endpoint: "/objects/7?v=2", method: "PUT", headers: { host: "svc", authorization: "[redacted]", "x-trace": "a,b" } },
        response: { code: 204, headers: { "set-cookie": "[redacted]", "content-type": "text/plain" } },
      },
    });
  });

  it("includes bodies only when asked, cut at the bound", () => {
    const auditor = createAuditor({ topic: "t", systemIp: "ip", includeBody: true, maxBodyBytes: 4, randomUUID: ids("e1", "e2") });
    const event = auditor.finish(auditor.start(() => undefined), { ...done, requestBody: "abcdefgh", responseBody: new TextEncoder().encode("ok") });
    expect(event.payload.request).toMatchObject({ body: "abcd", bodyTruncated: true });
    expect(event.payload.response.body).toBe("ok");
    expect(event.payload.response.bodyTruncated).toBeUndefined();
    const quiet = createAuditor({ topic: "t", systemIp: "ip", randomUUID: ids("e3") });
    expect(quiet.finish(quiet.start(() => undefined), { ...done, requestBody: "abc" }).payload.request.body).toBeUndefined();
  });

  it("names originators: user DN, external system DN and JWT subject, else the peer", () => {
    expect(originatorTokens({ userDn: "CN=alice", externalSysDn: "CN=gateway", jwtSubject: "alice", peer: "spiffe://td/ns/a/sa/b" }))
      .toEqual(["CN=alice", "CN=gateway", "alice"]);
    expect(originatorTokens({ peer: "spiffe://td/ns/a/sa/b" })).toEqual(["spiffe://td/ns/a/sa/b"]);
    expect(originatorTokens({ userDn: "CN=a", jwtSubject: "CN=a" })).toEqual(["CN=a"]);
  });

  it("writes JSON lines to the line sink and survives a broken writer", async () => {
    const lines: string[] = [];
    const auditor = createAuditor({ topic: "t", systemIp: "ip", randomUUID: ids("e1") });
    const event = auditor.finish(auditor.start(() => undefined), done);
    createLineSink((l) => lines.push(l)).send(event);
    expect(JSON.parse(lines[0]!)).toEqual(event);
    const broken = createLineSink(() => { throw new Error("EPIPE"); });
    expect(() => broken.send(event)).not.toThrow();
    await broken.close();
  });
});
