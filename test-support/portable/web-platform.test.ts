// A portable suite that always exists, so the runtime matrix never runs zero tests: it exercises the
// Web APIs weft's portable code relies on (crypto.subtle, TextEncoder, URL, fetch types) and fast-check,
// and it runs under vitest in Node and through portable-vitest in Deno and workerd.
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const hex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");

describe("Web platform APIs", () => {
  it("computes SHA-256 with crypto.subtle", async () => {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc"));
    expect(hex(digest)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("signs and verifies with ECDSA P-256, rejecting a tampered message", async () => {
    const algorithm = { name: "ECDSA", namedCurve: "P-256" } as const;
    const keys = await crypto.subtle.generateKey(algorithm, false, ["sign", "verify"]);
    const signing = { name: "ECDSA", hash: "SHA-256" } as const;
    const message = new TextEncoder().encode("spiffe://cluster.local/ns/default/sa/web");
    const signature = await crypto.subtle.sign(signing, keys.privateKey, message);
    await expect(crypto.subtle.verify(signing, keys.publicKey, signature, message)).resolves.toBe(true);
    const tampered = message.slice();
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    await expect(crypto.subtle.verify(signing, keys.publicKey, signature, tampered)).resolves.toBe(false);
  });

  it("round-trips any string through TextEncoder and TextDecoder", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (text) => {
      expect(new TextDecoder().decode(new TextEncoder().encode(text))).toBe(text);
    }));
  });

  it("round-trips any bytes through btoa and atob", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const encoded = btoa(String.fromCharCode(...bytes));
      expect(Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0))).toEqual(bytes);
    }));
  });

  it("hashes deterministically (async property)", async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 32 }), async (bytes) => {
      const first = hex(await crypto.subtle.digest("SHA-256", bytes));
      expect(hex(await crypto.subtle.digest("SHA-256", bytes))).toBe(first);
      expect(first).toHaveLength(64);
    }), { numRuns: 20 });
  });

  it("parses URLs by the WHATWG rules", () => {
    const url = new URL("http://EXAMPLE.com:80/a/../b?x=1&y=%20#f");
    expect(url.href).toBe("http://example.com/b?x=1&y=%20#f");
    expect(url.searchParams.get("y")).toBe(" ");
    const spiffe = new URL("spiffe://cluster.local/ns/default/sa/web");
    expect(spiffe.protocol).toBe("spiffe:");
    expect(spiffe.host).toBe("cluster.local");
    expect(spiffe.pathname.split("/")).toEqual(["", "ns", "default", "sa", "web"]);
    expect(() => new URL("not a url")).toThrow(TypeError);
  });

  it("builds Requests and Responses with Headers", async () => {
    const request = new Request("http://mesh.local/api", { method: "POST", headers: { "X-Id": "7" }, body: "hi" });
    expect(request.headers.get("x-id")).toBe("7");
    await expect(request.text()).resolves.toBe("hi");
    const response = Response.json({ ok: true }, { status: 201 });
    expect(response.status).toBe(201);
    await expect(response.json()).resolves.toEqual({ ok: true });
  });
});

describe("the expect in use fails when it should", () => {
  it("throws on a mismatch, including through .not and .rejects", async () => {
    expect(() => expect(1).toBe(2)).toThrow();
    expect(() => expect({ a: 1 }).not.toEqual({ a: 1 })).toThrow();
    await expect(expect(Promise.resolve(1)).rejects.toThrow()).rejects.toThrow();
  });
});
