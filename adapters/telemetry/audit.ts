/**
 * @module adapters/telemetry/audit
 * Audit events in the shape of Grey Matter's "observables": one JSON event per request with an event id,
 * the event chain (the ids of the hops before this one, read from a request header, with this hop's id
 * appended and forwarded upstream), the originator tokens (user DN, external system DN, JWT subject or
 * the mTLS peer), the system IP, X-Forwarded-For, the action (the method as create/read/update/delete),
 * request and response headers (credentials redacted) and, optionally, bodies cut at a bound. The
 * proxy calls `auditor.start(get)` when a request arrives (it returns the header value to forward) and
 * `auditor.finish(...)` when it ends; the event goes to a sink (stdout lines, or Kafka through
 * batch-sink.ts + node/kafka.ts). Ids, clock and IP are injected. Runtime-neutral.
 */

export type AuditAction = "create" | "read" | "update" | "delete";

/** One observable. Field names follow Grey Matter's audit index. */
export interface AuditEvent {
  eventId: string;
  /** Ids of the hops so far, oldest first; the last one is `eventId`. */
  eventChain: string[];
  schemaVersion: "1.0";
  /** The configured topic (Grey Matter's `eventType`: service, region, environment). */
  eventType: string;
  /** Who the request is for and through whom: user DN, external system DN, JWT subject or peer identity. */
  originatorToken: string[];
  systemIp: string;
  xForwardedForIp: string;
  action: AuditAction;
  /** Unix seconds, as Grey Matter writes it. */
  timestamp: number;
  payload: {
    isSuccessful: boolean;
    request: { endpoint: string; method: string; headers: Record<string, string>; body?: string; bodyTruncated?: boolean };
    response: { code: number; headers?: Record<string, string>; body?: string; bodyTruncated?: boolean };
  };
}

export interface AuditorOptions {
  /** `eventType` of every event. */
  topic: string;
  /** This proxy's IP (`systemIp`). */
  systemIp: string;
  /** Header carrying the event chain between hops (default `x-event-chain`), comma-separated ids. */
  chainHeader?: string;
  includeBody?: boolean;
  /** Largest body kept, in bytes (default 4096); longer bodies are cut and marked `bodyTruncated`. */
  maxBodyBytes?: number;
  /** Headers whose values are replaced by `[redacted]` (default: authorization, proxy-authorization, cookie, set-cookie). */
  redactHeaders?: string[];
  /** Longest chain kept (default 32 ids); older ids are dropped first. */
  maxChain?: number;
  randomUUID?: () => string;
  /** Epoch milliseconds. */
  now?: () => number;
}

/** What `start` returns: keep it on the request; forward `chainHeaderValue` upstream under `chainHeader`. */
export interface AuditStart {
  eventId: string;
  eventChain: string[];
  chainHeader: string;
  chainHeaderValue: string;
}

/** What the proxy knows when the request ends. */
export interface AuditFinish {
  method: string;
  /** Path with query. */
  path: string;
  status: number;
  requestHeaders: Iterable<[string, string]>;
  responseHeaders?: Iterable<[string, string]>;
  forwardedFor?: string;
  originators: string[];
  requestBody?: Uint8Array | string;
  responseBody?: Uint8Array | string;
}

export interface Auditor {
  readonly chainHeader: string;
  start(get: (name: string) => string | undefined): AuditStart;
  finish(start: AuditStart, done: AuditFinish): AuditEvent;
}

/** Grey Matter's action for an HTTP method. */
export function actionFor(method: string): AuditAction {
  switch (method.toUpperCase()) {
    case "POST": return "create";
    case "PUT":
    case "PATCH": return "update";
    case "DELETE": return "delete";
    default: return "read";
  }
}

/**
 * The originator tokens, most specific first, without duplicates: the user DN (`USER_DN`, or the
 * effective user from impersonation), the external system DN (`EXTERNAL_SYS_DN`), the JWT subject,
 * and the mTLS peer (DN or SPIFFE ID) when nothing else names the user.
 */
export function originatorTokens(p: { userDn?: string; externalSysDn?: string; jwtSubject?: string; peer?: string }): string[] {
  const out: string[] = [];
  for (const v of [p.userDn, p.externalSysDn, p.jwtSubject]) if (v && !out.includes(v)) out.push(v);
  if (out.length === 0 && p.peer) out.push(p.peer);
  return out;
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

function bounded(body: Uint8Array | string, max: number): { body: string; truncated: boolean } {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const cut = bytes.length > max;
  return { body: new TextDecoder("utf-8", { fatal: false }).decode(cut ? bytes.subarray(0, max) : bytes), truncated: cut };
}

/**
 * Creates an auditor.
 * @example
 * const auditor = createAuditor({ topic: "reviews-prod", systemIp: "10.0.0.7" });
 * const a = auditor.start((n) => req.headers[n]);          // at request start
 * upstreamHeaders[a.chainHeader] = a.chainHeaderValue;      // forward the chain
 * sink.send(auditor.finish(a, { method, path, status, requestHeaders, originators }));
 */
export function createAuditor(options: AuditorOptions): Auditor {
  const chainHeader = (options.chainHeader ?? "x-event-chain").toLowerCase();
  const maxBody = options.maxBodyBytes ?? 4096;
  const maxChain = options.maxChain ?? 32;
  const redact = new Set((options.redactHeaders ?? ["authorization", "proxy-authorization", "cookie", "set-cookie"]).map((h) => h.toLowerCase()));
  const uuid = options.randomUUID ?? (() => crypto.randomUUID());
  const now = options.now ?? Date.now;

  function headers(list: Iterable<[string, string]>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of list) {
      const name = k.toLowerCase();
      const value = redact.has(name) ? "[redacted]" : v;
      out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
    }
    return out;
  }

  return {
    chainHeader,
    start(get) {
      const eventId = uuid();
      const incoming = (get(chainHeader) ?? "").split(",").map((s) => s.trim()).filter((s) => ID.test(s));
      const eventChain = [...incoming, eventId].slice(-maxChain);
      return { eventId, eventChain, chainHeader, chainHeaderValue: eventChain.join(",") };
    },
    finish(start, done) {
      const event: AuditEvent = {
        eventId: start.eventId,
        eventChain: start.eventChain,
        schemaVersion: "1.0",
        eventType: options.topic,
        originatorToken: done.originators,
        systemIp: options.systemIp,
        xForwardedForIp: done.forwardedFor?.split(",")[0]?.trim() ?? "",
        action: actionFor(done.method),
        timestamp: Math.floor(now() / 1000),
        payload: {
          isSuccessful: done.status >= 200 && done.status < 300,
          request: { endpoint: done.path, method: done.method, headers: headers(done.requestHeaders) },
          response: { code: done.status },
        },
      };
      if (done.responseHeaders) event.payload.response.headers = headers(done.responseHeaders);
      if (options.includeBody) {
        if (done.requestBody !== undefined) {
          const b = bounded(done.requestBody, maxBody);
          event.payload.request.body = b.body;
          if (b.truncated) event.payload.request.bodyTruncated = true;
        }
        if (done.responseBody !== undefined) {
          const b = bounded(done.responseBody, maxBody);
          event.payload.response.body = b.body;
          if (b.truncated) event.payload.response.bodyTruncated = true;
        }
      }
      return event;
    },
  };
}

/** Where audit events go. `send` never throws and never waits. */
export interface AuditSink {
  send(event: AuditEvent): void;
  /** Delivers what is queued (as far as possible) and releases resources. */
  close(): Promise<void>;
}

/** A sink that writes one JSON line per event (stdout in Grey Matter's default). */
export function createLineSink(write: (line: string) => void): AuditSink {
  return {
    send(event) {
      try {
        write(JSON.stringify(event));
      } catch {
        // A broken writer must not fail the request.
      }
    },
    close: async () => undefined,
  };
}
