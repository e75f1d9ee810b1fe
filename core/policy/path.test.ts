import { describe, expect, it } from "vitest";
import { normalizePath, removeDotSegments, stripQuery } from "./path.ts";
import { cidrContains, parseCidr, parseIp } from "./cidr.ts";

describe("normalizePath (the table in docs/authz.md)", () => {
  const table: [string, string | null, string | null, string | null, string | null][] = [
    // input,        NONE,        BASE,        MERGE_SLASHES, DECODE_AND_MERGE_SLASHES
    ["/a/../b", "/a/../b", "/b", "/b", "/b"],
    ["/a//b", "/a//b", "/a//b", "/a/b", "/a/b"],
    ["/a%2Fb", "/a%2Fb", "/a%2Fb", "/a%2Fb", "/a/b"],
    ["/a\\b", "/a\\b", "/a/b", "/a/b", "/a/b"],
    ["/a%5Cb", "/a%5Cb", "/a%5Cb", "/a%5Cb", "/a/b"],
    ["/a/%2e%2E/admin", "/a/%2e%2E/admin", "/admin", "/admin", "/admin"],
    ["/%7euser/%41", "/%7euser/%41", "/~user/A", "/~user/A", "/~user/A"],
    ["/a%20b", "/a%20b", "/a%20b", "/a%20b", "/a%20b"],
    ["/../../etc", "/../../etc", "/etc", "/etc", "/etc"],
    ["/a?x=/../b#f", "/a", "/a", "/a", "/a"],
    ["/a%00b", "/a%00b", null, null, null],
    ["/a%zz", "/a%zz", null, null, null],
    ["no-slash", null, null, null, null],
  ];
  for (const [input, none, base, merge, decode] of table) {
    it(input, () => {
      expect(normalizePath(input, "NONE")).toBe(none);
      expect(normalizePath(input, "BASE")).toBe(base);
      expect(normalizePath(input, "MERGE_SLASHES")).toBe(merge);
      expect(normalizePath(input, "DECODE_AND_MERGE_SLASHES")).toBe(decode);
    });
  }
  it("keeps a trailing slash after dot segments", () => {
    expect(removeDotSegments("/a/b/..")).toBe("/a/");
    expect(removeDotSegments("/a/.")).toBe("/a/");
  });
  it("strips query before fragment and fragment before query", () => {
    expect(stripQuery("/p?q#f")).toBe("/p");
    expect(stripQuery("/p#f?q")).toBe("/p");
  });
});

describe("CIDR", () => {
  it("parses and rejects", () => {
    expect(parseCidr("10.0.0.0/8")?.prefix).toBe(8);
    expect(parseCidr("10.0.0.0/33")).toBeNull();
    expect(parseCidr("10.0.0.256")).toBeNull();
    expect(parseCidr("010.0.0.1")).toBeNull();
    expect(parseCidr("2001:db8::/32")?.bytes.length).toBe(16);
    expect(parseCidr("2001:db8:::1")).toBeNull();
    expect(parseCidr("::ffff:10.0.0.1/128")?.bytes[15]).toBe(1);
    expect(parseIp("fe80::1%eth0")).toBeNull();
  });
  it("matches within the prefix only", () => {
    const c = parseCidr("192.168.16.0/20")!;
    expect(cidrContains(c, parseIp("192.168.31.255")!)).toBe(true);
    expect(cidrContains(c, parseIp("192.168.32.0")!)).toBe(false);
    expect(cidrContains(c, parseIp("::ffff:192.168.17.1")!)).toBe(true);
    expect(cidrContains(parseCidr("0.0.0.0/0")!, parseIp("8.8.8.8")!)).toBe(true);
    expect(cidrContains(parseCidr("2001:db8::/32")!, parseIp("10.0.0.1")!)).toBe(false);
    expect(cidrContains(parseCidr("2001:db8::/33")!, parseIp("2001:db8:8000::1")!)).toBe(false);
  });
});
