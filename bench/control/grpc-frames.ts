/**
 * @module bench/control/grpc-frames
 * A bare gRPC bidirectional stream over one node:http2 session, for the control-plane benchmark's
 * clients: messages go out as already-serialized bytes (so a client can send an ACK as a small
 * per-ACK header plus its subscription encoded once — protobuf concatenation is a merge) and come back
 * as the raw bytes of each length-prefixed message. 100 clients in one process then cost about what
 * 100 native xDS clients would, and the benchmark measures the control plane, not its clients.
 */
import * as http2 from "node:http2";

export interface RawGrpcStream {
  send(message: Uint8Array): void;
  /** Resolves when the call ends (with the grpc-status trailer, or the error). */
  readonly done: Promise<unknown>;
  close(): void;
}

function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/**
 * Opens `path` (`/package.Service/Method`) on `http://address` and calls `onMessage` for every message
 * the server sends.
 */
export function openRawGrpcStream(address: string, path: string, onMessage: (bytes: Uint8Array) => void): RawGrpcStream {
  const session = http2.connect(`http://${address}`);
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc+proto", te: "trailers" });
  let pending = new Uint8Array(0);
  stream.on("data", (chunk: Buffer) => {
    let buf: Uint8Array = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (buf.length - at < 5) break;
      const len = new DataView(buf.buffer, buf.byteOffset + at + 1, 4).getUint32(0);
      if (buf.length - at - 5 < len) break;
      onMessage(buf.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    }
    buf = buf.subarray(at);
    pending = buf.length ? Uint8Array.from(buf) : new Uint8Array(0);
  });
  const done = new Promise<unknown>((resolve) => {
    stream.on("trailers", (t) => resolve(new Error(`stream ended: grpc-status ${String(t["grpc-status"])} ${String(t["grpc-message"] ?? "")}`)));
    stream.on("error", resolve);
    stream.on("close", () => resolve(new Error("stream closed")));
  });
  return {
    send: (message) => void stream.write(frame(message)),
    done,
    close: () => {
      stream.close();
      session.close();
    },
  };
}
