/**
 * @module proxy/node/llhttp
 * Node's own HTTP/1 parser (llhttp, C++), used directly to parse upstream responses on pooled raw
 * sockets and downstream requests on the listener's raw sockets (`h1-server.ts`). `node:http` wraps
 * every message in streams and objects the proxy does not need; llhttp alone gives the same strict
 * framing (chunked, content-length, close-delimited, trailers, the same rejections of smuggling
 * attempts) at a fraction of the cost. `node:_http_common` is public-but-undocumented; this file is the only place
 * that touches it, so a Node upgrade that changes it breaks here and nowhere else.
 */
import { createRequire } from "node:module";

export interface ResponseParserEvents {
  /** Return 1 to tell the parser the response has no body (HEAD). Headers are a flat [name, value, ...] list. */
  onHeaders(statusCode: number, statusMessage: string, headers: string[], keepAlive: boolean, upgrade: boolean): number;
  onBody(chunk: Buffer): void;
  onComplete(trailers: string[] | undefined): void;
}

export interface ResponseParser {
  /** Feeds bytes; returns an Error when the upstream sent an invalid response. */
  execute(chunk: Buffer): Error | undefined;
  /** Signals EOF (ends a close-delimited body); returns an Error when a message was cut short. */
  finish(): Error | undefined;
  close(): void;
}

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(b: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [k: number]: unknown;
}

interface HTTPParserCtor {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const { HTTPParser, methods } = createRequire(import.meta.url)("_http_common") as { HTTPParser: HTTPParserCtor; methods: string[] };

/** A response parser for one upstream connection; it parses many responses in sequence (keep-alive). */
export function createResponseParser(events: ResponseParserEvents, maxHeaderSize = 0): ResponseParser {
  const p = new HTTPParser();
  p.initialize(HTTPParser.RESPONSE, {}, maxHeaderSize, 0);
  let pending: string[] | undefined;
  let headersDone = false;
  p[HTTPParser.kOnHeaders] = (headers: string[]) => {
    pending = pending ? pending.concat(headers) : headers;
  };
  p[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[] | undefined, _method: unknown, _url: unknown,
    statusCode: number, statusMessage: string, upgrade: boolean, keepAlive: boolean): number => {
    let all = headers ?? [];
    if (pending) {
      all = pending.concat(all);
      pending = undefined;
    }
    headersDone = true;
    return events.onHeaders(statusCode, statusMessage, all, keepAlive, upgrade);
  };
  p[HTTPParser.kOnBody] = (chunk: Buffer) => events.onBody(chunk);
  p[HTTPParser.kOnMessageComplete] = () => {
    const trailers = headersDone && pending ? pending : undefined;
    pending = undefined;
    headersDone = false;
    events.onComplete(trailers);
  };
  return {
    execute(chunk) {
      const r = p.execute(chunk);
      return r instanceof Error ? r : undefined;
    },
    finish() {
      const r = p.finish();
      return r instanceof Error ? r : undefined;
    },
    close: () => p.close(),
  };
}

export interface RequestParserEvents {
  /**
   * A request head. Headers are a flat [name, value, ...] list; `upgrade` is set for CONNECT and for
   * `Upgrade` requests (llhttp then stops after the head: `execute` returns how many bytes it used).
   */
  onHeaders(method: string, url: string, versionMinor: number, headers: string[], keepAlive: boolean, upgrade: boolean): void;
  onBody(chunk: Buffer): void;
  onComplete(): void;
}

export interface RequestParser {
  /** Feeds bytes; returns the bytes used (less than the chunk only after an upgrade head) or an Error with `code` (HPE_*). */
  execute(chunk: Buffer): number | (Error & { code?: string });
  /** Signals EOF; returns an Error when a request was cut short. */
  finish(): (Error & { code?: string }) | undefined;
  close(): void;
}

/** A request parser for one downstream connection; it parses many requests in sequence (keep-alive, pipelining). */
export function createRequestParser(events: RequestParserEvents, maxHeaderSize = 0): RequestParser {
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {}, maxHeaderSize, 0);
  let pending: string[] | undefined;
  let pendingUrl = "";
  // Heads split across reads (or with many headers) arrive in pieces through kOnHeaders.
  p[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
    pending = pending ? pending.concat(headers) : headers;
    pendingUrl += url;
  };
  p[HTTPParser.kOnHeadersComplete] = (_maj: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
    _status: unknown, _msg: unknown, upgrade: boolean, keepAlive: boolean): number => {
    let all = headers ?? [];
    if (pending) {
      all = pending.concat(all);
      pending = undefined;
    }
    const target = url ? pendingUrl + url : pendingUrl;
    pendingUrl = "";
    events.onHeaders(methods[method] ?? "GET", target, minor, all, keepAlive, upgrade);
    return 0;
  };
  p[HTTPParser.kOnBody] = (chunk: Buffer) => events.onBody(chunk);
  p[HTTPParser.kOnMessageComplete] = () => {
    pending = undefined; // request trailers are not forwarded
    events.onComplete();
  };
  return {
    execute: (chunk) => p.execute(chunk),
    finish() {
      const r = p.finish();
      return r instanceof Error ? r : undefined;
    },
    close: () => p.close(),
  };
}
