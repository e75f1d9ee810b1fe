/**
 * @module proxy/config/primitives
 * Small zod schemas every section of the proxy config file shares: names, durations in milliseconds,
 * and socket addresses written `host:port`.
 */
import { z } from "../../core/schema/index.ts";
import type { SocketAddress } from "./types.ts";

export const name = z.string().min(1).max(253);
export const ms = z.number().int().min(0).max(365 * 24 * 3600 * 1000);

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseSocketAddress(text: string): SocketAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { address: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export const socketAddress = z.string().transform((s, ctx) => {
  const a = parseSocketAddress(s);
  if (!a) {
    ctx.addIssue({ code: "custom", message: `expected HOST:PORT, got "${s}"` });
    return z.NEVER;
  }
  return a;
});
