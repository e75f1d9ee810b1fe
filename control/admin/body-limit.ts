/**
 * @module control/admin/body-limit
 * Caps request bodies at `maxSize` bytes: a declared Content-Length over the cap is refused at once;
 * a body without one (chunked) is read with a running count and refused as soon as it passes the cap,
 * then handed on as a fresh Request. Written here rather than using `hono/body-limit` because that one
 * rebuilds the request from the incoming Request object, which fails on `@hono/node-server`'s
 * lightweight request when the server does not override the global Request (we keep it untouched).
 */
import type { Context, MiddlewareHandler } from "hono";

export function createBodyLimit(maxSize: number, onError: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  return async function bodyLimit(c, next) {
    const declared = c.req.header("content-length");
    if (declared !== undefined) {
      if (!/^\d+$/.test(declared) || Number(declared) > maxSize) return onError(c);
      return next();
    }
    const body = c.req.raw.body;
    if (!body || c.req.method === "GET" || c.req.method === "HEAD") return next();
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxSize) {
        await reader.cancel().catch(() => undefined);
        return onError(c);
      }
      chunks.push(value);
    }
    const buf = new Uint8Array(total);
    let off = 0;
    for (const ch of chunks) {
      buf.set(ch, off);
      off += ch.byteLength;
    }
    c.req.raw = new Request(c.req.url, { method: c.req.method, headers: c.req.raw.headers, body: buf });
    return next();
  };
}
