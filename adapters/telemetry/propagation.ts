/**
 * @module adapters/telemetry/propagation
 * Trace context propagation between hops: W3C Trace Context (`traceparent`, `tracestate`) and Zipkin B3,
 * both the multi-header form (`x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`, `x-b3-sampled`,
 * `x-b3-flags`) and the single `b3` header. `extractTraceContext` reads the first valid context in the
 * configured order; `startHop` continues it with a new span id for this hop (or starts a trace, with the
 * sampling decision drawn once from the sampling percentage and then honoured downstream);
 * `injectTraceContext` writes the hop's context in every configured format, so a W3C caller and a B3
 * callee understand each other. Headers are read and written through two small functions so the proxy
 * can pass its own header objects without copying. Randomness is injected. Runtime-neutral.
 */

/** A propagation format: `w3c`, `b3` (multi-header) or `b3-single`. */
export type PropagationFormat = "w3c" | "b3" | "b3-single";

/** A trace context as received or as sent on. Ids are lower-case hex. */
export interface TraceContext {
  /** 32 hex digits (a 64-bit B3 trace id is left-padded with zeros; see `traceId64`). */
  traceId: string;
  /** 16 hex digits: the span that sent the request (incoming) or this hop's span (outgoing). */
  spanId: string;
  /** The parent of `spanId`, when known. */
  parentSpanId?: string;
  /** The sampling decision; undefined when the caller deferred it. */
  sampled: boolean | undefined;
  /** B3 debug (`x-b3-flags: 1` or `b3: ...-d`): implies sampled. */
  debug?: boolean;
  /** W3C `tracestate`, passed through unchanged when valid. */
  traceState?: string;
  /** The trace id arrived as 16 hex digits in B3; B3 output keeps that width. */
  traceId64?: boolean;
}

export type HeaderGetter = (name: string) => string | undefined;
export type HeaderSetter = (name: string, value: string) => void;

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = "0".repeat(32);
const ZERO16 = "0".repeat(16);

/** Parses a `traceparent` header (version 00, or a later version read as 00); undefined if invalid. */
export function parseTraceparent(value: string | undefined, traceState?: string): TraceContext | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const parts = v.split("-");
  if (parts.length < 4) return undefined;
  const [version, traceId, spanId, flags] = parts as [string, string, string, string];
  if (!/^[0-9a-f]{2}$/.test(version) || version === "ff") return undefined;
  if (version === "00" && parts.length !== 4) return undefined;
  if (!HEX32.test(traceId) || traceId === ZERO32 || !HEX16.test(spanId) || spanId === ZERO16 || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  const ctx: TraceContext = { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
  const state = traceState === undefined ? undefined : validTraceState(traceState);
  if (state !== undefined) ctx.traceState = state;
  return ctx;
}

/** Formats a `traceparent` header (version 00). */
export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled || ctx.debug ? "01" : "00"}`;
}

/** `tracestate` trimmed, or undefined when malformed (more than 32 members, too long, or a bad member). */
export function validTraceState(value: string): string | undefined {
  const members = value.split(",").map((m) => m.trim()).filter((m) => m !== "");
  if (members.length === 0 || members.length > 32) return undefined;
  const member = /^([a-z0-9][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
  if (!members.every((m) => member.test(m))) return undefined;
  const out = members.join(",");
  return out.length <= 512 ? out : undefined;
}

function b3TraceId(id: string | undefined): { traceId: string; traceId64: boolean } | undefined {
  if (id === undefined) return undefined;
  const v = id.trim().toLowerCase();
  if (HEX16.test(v) && v !== ZERO16) return { traceId: ZERO16 + v, traceId64: true };
  if (HEX32.test(v) && v !== ZERO32) return { traceId: v, traceId64: false };
  return undefined;
}

function b3SpanId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const v = id.trim().toLowerCase();
  return HEX16.test(v) && v !== ZERO16 ? v : undefined;
}

function b3Sampled(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  return s === "1" || s === "true" ? true : s === "0" || s === "false" ? false : undefined;
}

/** Parses the B3 multi-header form; undefined when trace id or span id is missing or invalid. */
export function parseB3Multi(get: HeaderGetter): TraceContext | undefined {
  const t = b3TraceId(get("x-b3-traceid"));
  const spanId = b3SpanId(get("x-b3-spanid"));
  if (t === undefined || spanId === undefined) return undefined;
  const debug = get("x-b3-flags")?.trim() === "1";
  const ctx: TraceContext = { traceId: t.traceId, spanId, sampled: debug ? true : b3Sampled(get("x-b3-sampled")), traceId64: t.traceId64 };
  const parent = b3SpanId(get("x-b3-parentspanid"));
  if (parent !== undefined) ctx.parentSpanId = parent;
  if (debug) ctx.debug = true;
  return ctx;
}

/**
 * Parses the single `b3` header: `{traceid}-{spanid}[-{sampled}[-{parentspanid}]]` with sampled `0`,
 * `1` or `d`. A bare `0`, `1` or `d` carries only a decision; that is returned as `{ decisionOnly }`.
 */
export function parseB3Single(value: string | undefined): TraceContext | { decisionOnly: boolean } | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === "0") return { decisionOnly: false };
  if (v === "1" || v === "d") return { decisionOnly: true };
  const parts = v.split("-");
  if (parts.length < 2 || parts.length > 4) return undefined;
  const t = b3TraceId(parts[0]);
  const spanId = b3SpanId(parts[1]);
  if (t === undefined || spanId === undefined) return undefined;
  const flag = parts[2];
  if (flag !== undefined && flag !== "0" && flag !== "1" && flag !== "d") return undefined;
  const ctx: TraceContext = { traceId: t.traceId, spanId, sampled: flag === undefined ? undefined : flag !== "0", traceId64: t.traceId64 };
  if (flag === "d") ctx.debug = true;
  if (parts[3] !== undefined) {
    const parent = b3SpanId(parts[3]);
    if (parent === undefined) return undefined;
    ctx.parentSpanId = parent;
  }
  return ctx;
}

/** What `extractTraceContext` found: a context, a bare sampling decision, or nothing. */
export interface Extracted {
  context: TraceContext | undefined;
  /** A sampling decision without ids (`b3: 0`, `x-b3-sampled: 0` alone): honoured for a new trace. */
  sampled: boolean | undefined;
}

/** Reads the first valid context in `formats` order (`b3` and `b3-single` both accept either B3 form). */
export function extractTraceContext(get: HeaderGetter, formats: readonly PropagationFormat[]): Extracted {
  let sampled: boolean | undefined;
  for (const f of formats) {
    if (f === "w3c") {
      const ctx = parseTraceparent(get("traceparent"), get("tracestate"));
      if (ctx) return { context: ctx, sampled: ctx.sampled };
      continue;
    }
    const single = parseB3Single(get("b3"));
    if (single !== undefined && "decisionOnly" in single) sampled ??= single.decisionOnly;
    else if (single !== undefined) return { context: single, sampled: single.sampled };
    const multi = parseB3Multi(get);
    if (multi) return { context: multi, sampled: multi.sampled };
    if (get("x-b3-flags")?.trim() === "1") sampled = true;
    else sampled ??= b3Sampled(get("x-b3-sampled"));
  }
  return { context: undefined, sampled };
}

export interface HopOptions {
  /** 0..100: the share of new traces to sample (ignored when the caller decided). */
  samplingPercent: number;
  /** Uniform in [0, 1). */
  random: () => number;
}

/** Two hex digits per byte value: `Number#toString(16)` is several times slower than a table lookup. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => (i < 16 ? "0" : "") + i.toString(16));

/** Random lower-case hex of `digits` digits, never all zeros; 32 bits per `random()` call. */
export function randomHex(digits: number, random: () => number): string {
  for (;;) {
    let out = "";
    let zero = true;
    for (let i = 0; i < digits; i += 8) {
      const word = (random() * 4294967296) >>> 0;
      if (word !== 0) zero = false;
      out += HEX2[word >>> 24]! + HEX2[(word >>> 16) & 255]! + HEX2[(word >>> 8) & 255]! + HEX2[word & 255]!;
    }
    if (out.length !== digits) {
      out = out.slice(0, digits);
      zero = /^0+$/.test(out);
    }
    if (!zero) return out;
  }
}

/** The caller's sampling decision, or one drawn from the sampling percentage. */
function decide(incoming: Extracted, options: HopOptions): boolean {
  const s = incoming.sampled;
  if (s !== undefined) return s;
  return options.samplingPercent >= 100 || (options.samplingPercent > 0 && options.random() * 100 < options.samplingPercent);
}

/**
 * This hop's context: same trace, a new span id, the caller's span as parent, and the caller's sampling
 * decision (or a new trace and a decision from `samplingPercent` when there is none).
 */
export function startHop(incoming: Extracted, options: HopOptions): TraceContext {
  const parent = incoming.context;
  const spanId = randomHex(16, options.random);
  if (parent === undefined) return { traceId: randomHex(32, options.random), spanId, sampled: decide(incoming, options) };
  const ctx: TraceContext = { traceId: parent.traceId, spanId, parentSpanId: parent.spanId, sampled: parent.debug ? true : decide(incoming, options) };
  if (parent.debug) ctx.debug = true;
  if (parent.traceState !== undefined) ctx.traceState = parent.traceState;
  if (parent.traceId64) ctx.traceId64 = true;
  return ctx;
}

/** Writes `ctx` in every format of `formats` (W3C first, then B3), replacing what the request carried. */
export function injectTraceContext(ctx: TraceContext, set: HeaderSetter, formats: readonly PropagationFormat[]): void {
  const b3Trace = ctx.traceId64 ? ctx.traceId.slice(16) : ctx.traceId;
  for (const f of formats) {
    if (f === "w3c") {
      set("traceparent", formatTraceparent(ctx));
      if (ctx.traceState !== undefined) set("tracestate", ctx.traceState);
    } else if (f === "b3") {
      set("x-b3-traceid", b3Trace);
      set("x-b3-spanid", ctx.spanId);
      if (ctx.parentSpanId !== undefined) set("x-b3-parentspanid", ctx.parentSpanId);
      if (ctx.debug) set("x-b3-flags", "1");
      else if (ctx.sampled !== undefined) set("x-b3-sampled", ctx.sampled ? "1" : "0");
    } else {
      const flag = ctx.debug ? "-d" : ctx.sampled === undefined ? "" : ctx.sampled ? "-1" : "-0";
      set("b3", `${b3Trace}-${ctx.spanId}${flag}${ctx.parentSpanId !== undefined && flag !== "" ? `-${ctx.parentSpanId}` : ""}`);
    }
  }
}

/** Every header name `injectTraceContext` may write, for removing stale ones before injecting. */
export const TRACE_HEADERS = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"] as const;
