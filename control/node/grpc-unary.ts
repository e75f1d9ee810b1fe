/**
 * @module control/node/grpc-unary
 * A lean path for hot unary gRPC methods on weft's gRPC host, beside connect-node. Measured with ghz
 * against the ext_authz server, connect-node spent far more per Check than the decision itself
 * (an AbortController linked to a DOMException reason, async iterables and handler context per call:
 * about a millisecond of CPU on the benchmark machine against ~18 µs for mapping, deciding and
 * encoding), which misses Envoy's 1 ms p99 budget for ext_authz. A unary call over HTTP/2 is small to
 * do exactly (gRPC over HTTP/2 spec: one length-prefixed message each way, status in trailers), so the
 * methods listed here are answered directly and everything else (streams, other services) still goes
 * to connect-node. Compressed messages are refused with UNIMPLEMENTED (Envoy does not compress ext_authz
 * calls); a malformed frame or message is INVALID_ARGUMENT; a handler error is INTERNAL with its message.
 */
import type * as http2 from "node:http2";

/** Decodes the request, runs the method, encodes the reply. Throwing gives INTERNAL. */
export type UnaryMethod = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** Thrown by a method (or its decoder) to answer with a given gRPC status. */
export class GrpcStatusError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const MAX_MESSAGE = 4 * 1024 * 1024; // gRPC's default max receive size

/** gRPC status codes used here. */
const Code = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13 } as const;

/** `grpc-message` is percent-encoded (gRPC over HTTP/2 spec). */
function encodeMessage(m: string): string {
  return encodeURIComponent(m).replace(/%20/g, " ");
}

function trailersOnly(res: http2.Http2ServerResponse, code: number, message: string): void {
  res.writeHead(200, { "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": encodeMessage(message) });
  res.end();
}

/**
 * Wraps a compat-API HTTP/2 handler: requests for `methods` (by path, `/package.Service/Method`) with a
 * gRPC content type are answered here, the rest go to `fallback`.
 * @example
 * http2.createServer(withUnaryFastPath(new Map([["/envoy.service.auth.v3.Authorization/Check", check]]), connectHandler));
 */
export function withUnaryFastPath(
  methods: ReadonlyMap<string, UnaryMethod>,
  fallback: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
): (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void {
  if (methods.size === 0) return fallback;
  return (req, res) => {
    const method = req.method === "POST" ? methods.get(req.url) : undefined;
    const type = req.headers["content-type"];
    if (!method || typeof type !== "string" || !(type === "application/grpc" || type.startsWith("application/grpc+proto") || type.startsWith("application/grpc;"))) {
      fallback(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_MESSAGE + 5) tooBig = true;
      else chunks.push(c);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      if (tooBig) return trailersOnly(res, Code.RESOURCE_EXHAUSTED, `message larger than ${MAX_MESSAGE} bytes`);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (body.length < 5) return trailersOnly(res, Code.INVALID_ARGUMENT, "missing gRPC message frame");
      if (body[0] !== 0) return trailersOnly(res, Code.UNIMPLEMENTED, "compressed messages are not supported on this method");
      const len = body.readUInt32BE(1);
      if (len !== body.length - 5) return trailersOnly(res, Code.INVALID_ARGUMENT, "a unary call carries exactly one message");
      let out: Uint8Array | Promise<Uint8Array>;
      try {
        out = method(body.subarray(5));
      } catch (err) {
        return fail(res, err);
      }
      if (out instanceof Uint8Array) reply(res, out);
      else out.then((o) => reply(res, o), (err) => fail(res, err));
    });
  };
}

function fail(res: http2.Http2ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.stream.close();
  if (err instanceof GrpcStatusError) trailersOnly(res, err.code, err.message);
  else trailersOnly(res, Code.INTERNAL, (err as Error)?.message ?? String(err));
}

function reply(res: http2.Http2ServerResponse, message: Uint8Array): void {
  if (res.stream.destroyed) return;
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  res.writeHead(200, { "content-type": "application/grpc" });
  res.addTrailers({ "grpc-status": "0" });
  res.end(frame);
}
