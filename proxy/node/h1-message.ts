/**
 * @module proxy/node/h1-message
 * The request and response objects of the raw HTTP/1.1 server (`h1-server.ts`): the small part of
 * node:http's `IncomingMessage` and `ServerResponse` that the exchange uses (method, url, raw and
 * lower-cased headers, body events with pause/resume; writeHead, write, end, trailers, drain and close),
 * without streams. The response writes its head together with the first body bytes (one write for a
 * response that arrives in one read), chunks a body of unknown length for HTTP/1.1 clients (or gives
 * it a Content-Length when the whole body is known at `end`), closes the connection after a
 * close-delimited body for HTTP/1.0 clients, and never sends a body to HEAD or for 204/304.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

type Listener = (this: unknown, ...args: never[]) => void;

/** Just enough of EventEmitter for the exchange's listeners (`this` is the emitter, as with EventEmitter). */
class Emitter {
  private ls: Map<string, Listener[]> | undefined = undefined;

  on(event: string, fn: Listener): this {
    const m = (this.ls ??= new Map());
    const list = m.get(event);
    if (list === undefined) m.set(event, [fn]);
    else list.push(fn);
    return this;
  }

  once(event: string, fn: Listener): this {
    const wrapped = function (this: Emitter, ...args: never[]) {
      this.removeListener(event, wrapped);
      fn.apply(this, args);
    } as Listener & { listener?: Listener };
    wrapped.listener = fn;
    return this.on(event, wrapped);
  }

  removeListener(event: string, fn: Listener): this {
    const list = this.ls?.get(event);
    if (list === undefined) return this;
    const i = list.findIndex((l) => l === fn || (l as { listener?: Listener }).listener === fn);
    if (i !== -1) list.splice(i, 1);
    return this;
  }

  off(event: string, fn: Listener): this {
    return this.removeListener(event, fn);
  }

  emit(event: string, arg?: unknown): boolean {
    const list = this.ls?.get(event);
    if (list === undefined || list.length === 0) return false;
    if (list.length === 1) (list[0] as (this: unknown, a: unknown) => void).call(this, arg);
    else for (const l of [...list]) (l as (this: unknown, a: unknown) => void).call(this, arg);
    return true;
  }

  listenerCount(event: string): number {
    return this.ls?.get(event)?.length ?? 0;
  }
}

/** Body bytes kept for a request nobody reads yet before the socket is paused (as a Readable's highWaterMark). */
const BUFFER_LIMIT = 64 * 1024;

/** Names whose duplicates node:http drops (the first wins); see `IncomingMessage.headers`. */
const FIRST_WINS = new Set(["content-type", "content-length", "user-agent", "referer", "host", "authorization", "proxy-authorization",
  "if-modified-since", "if-unmodified-since", "from", "location", "max-forwards", "retry-after", "etag", "last-modified", "server", "age", "expires"]);

/** Raw headers as node:http's `req.headers`: lower-case names, duplicates joined (cookies with "; "), set-cookie as a list. */
export function headersObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (out[name] === undefined) out[name] = headerOf(raw, name)!;
  }
  return out;
}

/** One header as `req.headers[name]` would give it (`name` in lower case). */
export function headerOf(raw: readonly string[], name: string): string | string[] | undefined {
  let out: string | undefined;
  let list: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length !== name.length || (n !== name && n.toLowerCase() !== name)) continue;
    const v = raw[i + 1]!;
    if (name === "set-cookie") (list ??= []).push(v);
    else if (out === undefined) out = v;
    else if (FIRST_WINS.has(name)) break;
    else out = `${out}${name === "cookie" ? "; " : ", "}${v}`;
  }
  return list ?? out;
}

/**
 * `req.headers` without building it: the proxy reads two or three names per request, so each read scans
 * the raw list; anything that enumerates gets the full object.
 */
const lazyHeaders: ProxyHandler<H1Request> = {
  get: (req, name) => (typeof name === "string" ? headerOf(req.rawHeaders, name) : undefined),
  has: (req, name) => typeof name === "string" && headerOf(req.rawHeaders, name) !== undefined,
  ownKeys: (req) => Reflect.ownKeys(req.fullHeaders()),
  getOwnPropertyDescriptor: (req, name) => Reflect.getOwnPropertyDescriptor(req.fullHeaders(), name),
};

/** What the response needs from its connection. */
export interface H1Sink {
  readonly socket: Socket;
  /** The response is complete; `keepAlive` false closes the connection after it. */
  responseDone(res: H1Response, keepAlive: boolean): void;
  destroy(): void;
}

export class H1Request extends Emitter {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly httpVersionMinor: number;
  readonly rawHeaders: string[];
  readonly socket: Socket;
  readonly upgrade: boolean;
  readonly keepAlive: boolean;
  /** The body is complete (or there is none). */
  complete = false;
  /** Body bytes are discarded (the response finished before the body did). */
  dumping = false;
  private headersCache: Record<string, string | string[]> | undefined = undefined;
  private headersView: Record<string, string | string[]> | undefined = undefined;
  private paused = false;
  private buffered: Buffer[] | null = null;
  private bufferedBytes = 0;
  /** The socket was paused because nobody read the body yet. */
  private throttled = false;
  private ended = false;
  private readonly onPause: (paused: boolean) => void;

  constructor(socket: Socket, method: string, url: string, minor: number, raw: string[], keepAlive: boolean, upgrade: boolean, onPause: (paused: boolean) => void) {
    super();
    this.socket = socket;
    this.method = method;
    this.url = url;
    this.httpVersionMinor = minor;
    this.httpVersion = minor === 1 ? "1.1" : `1.${minor}`;
    this.rawHeaders = raw;
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    this.onPause = onPause;
  }

  get headers(): Record<string, string | string[]> {
    return (this.headersView ??= new Proxy(this, lazyHeaders) as unknown as Record<string, string | string[]>);
  }

  /** The headers as one object (built on first use). */
  fullHeaders(): Record<string, string | string[]> {
    return (this.headersCache ??= headersObject(this.rawHeaders));
  }

  /** Body bytes from the parser: delivered to 'data' listeners, or kept until the request is resumed. */
  push(chunk: Buffer): void {
    if (this.dumping) return;
    if (this.paused || this.listenerCount("data") === 0) {
      (this.buffered ??= []).push(chunk);
      this.bufferedBytes += chunk.length;
      if (this.bufferedBytes > BUFFER_LIMIT && !this.paused && !this.throttled) {
        this.throttled = true;
        this.onPause(true);
      }
    } else this.emit("data", chunk);
  }

  /** The body is complete. */
  finish(): void {
    this.complete = true;
    if (this.dumping) return;
    if (this.buffered === null && !this.paused && this.listenerCount("data") > 0) this.emitEnd();
  }

  pause(): this {
    if (!this.paused) {
      this.paused = true;
      this.onPause(true);
    }
    return this;
  }

  resume(): this {
    this.paused = false;
    this.throttled = false;
    if (this.listenerCount("data") === 0) {
      this.onPause(false);
      return this; // nobody reads yet: the body stays buffered
    }
    const b = this.buffered;
    if (b !== null) {
      this.buffered = null;
      this.bufferedBytes = 0;
      for (let i = 0; i < b.length; i++) {
        if (this.paused) {
          (this.buffered ??= []).push(...b.slice(i));
          return this;
        }
        this.emit("data", b[i]);
      }
    }
    if (this.complete) this.emitEnd();
    else this.onPause(false);
    return this;
  }

  private emitEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit("end");
  }
}

let dateAt = 0;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1000) {
    dateAt = now - (now % 1000);
    dateText = new Date(dateAt).toUTCString();
  }
  return dateText;
}

const EMPTY = Buffer.alloc(0);
/** Bodies up to this size are copied into one buffer with the head (one write, one syscall). */
const COALESCE_LIMIT = 16 * 1024;

export class H1Response extends Emitter {
  shouldKeepAlive: boolean;
  statusCode = 200;
  headersSent = false;
  finished = false;
  readonly req: H1Request;
  private readonly sink: H1Sink;
  /** Status line and header lines, until the head is written. */
  private head: string | null = null;
  private hasLength = false;
  private hasBody = true;
  private chunked = false;
  private trailers: string | undefined = undefined;
  closed = false;
  /** For an `Upgrade` request: the bytes that followed its head. */
  upgradeHead: Buffer | undefined = undefined;

  constructor(sink: H1Sink, req: H1Request, keepAlive: boolean) {
    super();
    this.sink = sink;
    this.req = req;
    this.shouldKeepAlive = keepAlive;
    if (req.method === "HEAD") this.hasBody = false;
  }

  get socket(): Socket {
    return this.sink.socket;
  }

  /** Whether the body goes out chunked (so trailers can follow it). */
  get chunkedEncoding(): boolean {
    return this.chunked || (this.head !== null && this.hasBody && !this.hasLength && this.req.httpVersionMinor >= 1);
  }

  writeHead(status: number, headers?: readonly string[] | Record<string, string | number | readonly string[]>): this {
    if (this.head !== null || this.headersSent) return this;
    this.statusCode = status;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) this.hasBody = false;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "unknown"}\r\n`;
    let hasDate = false;
    const line = (name: string, value: string) => {
      switch (name.length) {
        case 4: if (!hasDate && name.toLowerCase() === "date") hasDate = true; break;
        case 10:
          if (name.toLowerCase() === "connection") {
            if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) this.shouldKeepAlive = false;
            return;
          }
          break;
        case 14: if (name.toLowerCase() === "content-length") this.hasLength = true; break;
        case 17: if (name.toLowerCase() === "transfer-encoding") return; // the framing is this object's
      }
      if (/[\r\n\0]/.test(value)) return; // never split the head (node:http would throw here, inside a parser callback)
      head += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) line(headers[i] as string, headers[i + 1] as string);
    } else if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const v = (headers as Record<string, string | number | readonly string[]>)[name]!;
        if (Array.isArray(v)) for (const x of v as readonly string[]) line(name, x);
        else line(name, String(v));
      }
    }
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    this.head = head;
    return this;
  }

  addTrailers(trailers: Record<string, string | string[]>): void {
    let t = "";
    for (const name of Object.keys(trailers)) {
      const v = trailers[name]!;
      for (const x of Array.isArray(v) ? v : [v]) if (!/[\r\n\0]/.test(x)) t += `${name}: ${x}\r\n`;
    }
    this.trailers = t;
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished) return false;
    if (this.head === null && !this.headersSent) this.writeHead(this.statusCode);
    const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.head !== null) return this.flushHead(data, false);
    if (!this.hasBody || data.length === 0) return true;
    if (!this.chunked) return this.send("", data, "");
    return this.send(`${data.length.toString(16)}\r\n`, data, "\r\n");
  }

  end(chunk?: Buffer | string): this {
    if (this.finished) return this;
    if (this.head === null && !this.headersSent) this.writeHead(this.statusCode);
    const data = chunk === undefined ? EMPTY : typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.finished = true;
    if (this.head !== null) this.flushHead(data, true);
    else if (this.hasBody) {
      if (this.chunked) this.send(data.length > 0 ? `${data.length.toString(16)}\r\n` : "", data, (data.length > 0 ? "\r\n" : "") + this.lastChunk());
      else if (data.length > 0) this.send("", data, "");
    }
    this.sink.responseDone(this, this.shouldKeepAlive);
    return this;
  }

  destroy(): void {
    this.sink.destroy();
  }

  /** The connection closed; before the response finished, listeners hear 'close' (the client went away). */
  connectionClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.finished) this.emit("close");
  }

  /** Writes the head with the first body bytes; `last` when that is the whole body. */
  private flushHead(data: Buffer, last: boolean): boolean {
    let head = this.head!;
    this.head = null;
    this.headersSent = true;
    if (this.hasBody && !this.hasLength) {
      if (last && this.trailers === undefined) {
        head += `content-length: ${data.length}\r\n`;
      } else if (this.req.httpVersionMinor >= 1) {
        head += "transfer-encoding: chunked\r\n";
        this.chunked = true;
      } else this.shouldKeepAlive = false; // HTTP/1.0: the body ends when the connection does
    }
    if (!this.shouldKeepAlive) head += "connection: close\r\n";
    else if (this.req.httpVersionMinor === 0) head += "connection: keep-alive\r\n";
    head += "\r\n";
    if (!this.hasBody) return this.send(head, EMPTY, "");
    if (!this.chunked) return this.send(head, data, "");
    const size = data.length > 0 ? `${data.length.toString(16)}\r\n` : "";
    return this.send(head + size, data, (data.length > 0 ? "\r\n" : "") + (last ? this.lastChunk() : ""));
  }

  private lastChunk(): string {
    return this.trailers !== undefined ? `0\r\n${this.trailers}\r\n` : "0\r\n\r\n";
  }

  /** Writes `prefix` (latin1), `data` and `suffix` (latin1): one buffer, so one syscall, unless `data` is large. */
  private send(prefix: string, data: Buffer, suffix: string): boolean {
    const s = this.sink.socket;
    if (s.destroyed || !s.writable) return false;
    if (prefix === "" && suffix === "") return s.write(data);
    if (data.length > COALESCE_LIMIT) {
      s.cork();
      s.write(prefix, "latin1");
      s.write(data);
      const ok = suffix === "" ? true : s.write(suffix, "latin1");
      s.uncork();
      return ok && s.writableLength < s.writableHighWaterMark;
    }
    const p = prefix.length;
    const buf = Buffer.allocUnsafe(p + data.length + suffix.length);
    buf.write(prefix, 0, p, "latin1");
    if (data.length > 0) data.copy(buf, p);
    if (suffix !== "") buf.write(suffix, p + data.length, "latin1");
    return s.write(buf);
  }
}
