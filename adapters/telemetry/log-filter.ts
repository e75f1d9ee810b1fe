/**
 * @module adapters/telemetry/log-filter
 * The access-log filter: the subset of CEL that Istio's `Telemetry.accessLogging[].filter` and Envoy's
 * CEL access-log filter are written in, over Envoy's attribute names. It is compiled once (errors are
 * `Diagnostic`s naming the column) into a closure that evaluates without allocating. Supported:
 * literals (int, double, string, bool, `[lists]`, `duration("1.5s")` as milliseconds), attributes
 * (`response.code`, `response.flags`, `response.grpc_status`, `response.code_details`, `response.size`,
 * `request.method`, `request.path`, `request.url_path`, `request.host`, `request.scheme`,
 * `request.protocol`, `request.id`, `request.useragent`, `request.size`, `request.duration`,
 * `source.address`, `source.port`, `source.principal`, `destination.service`, `connection.mtls`,
 * `upstream.address`, `xds.cluster_name`, `xds.route_name`), `== != < <= > >= in && || !`,
 * parentheses, `has(attr)`, and `.contains() .startsWith() .endsWith()` on strings. As in Envoy, a
 * request whose evaluation fails (a type mismatch) is not logged. `response.flags` compares with `0`
 * as Envoy's bitmask does (`response.flags != 0`: "flags present"; other numbers do not compare, as
 * weft does not carry Envoy's bit values); as a string it is the flag list (`"-"` when none), so
 * `response.flags.contains("UF")` and `response.flags == "UF"` work too.
 */

import type { Diagnostic } from "../../core/schema/index.ts";
import type { MeshContext, RequestRecord } from "./attributes.ts";

type Value = number | string | boolean | Value[] | FlagsValue | undefined;
/** `response.flags`: numeric in comparisons with numbers, the flag string otherwise. */
class FlagsValue {
  constructor(readonly text: string) {}
}
type Eval = (mesh: MeshContext, req: RequestRecord) => Value;

class FilterSyntaxError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

const ATTRIBUTES: Record<string, Eval> = {
  "response.code": (_m, r) => r.status,
  "response.flags": (_m, r) => new FlagsValue(r.responseFlags),
  "response.grpc_status": (_m, r) => (r.grpcStatus < 0 ? undefined : r.grpcStatus),
  "response.code_details": (_m, r) => r.responseCodeDetails,
  "response.size": (_m, r) => r.responseBytes,
  "request.method": (_m, r) => r.method,
  "request.path": (_m, r) => (r.path === undefined ? undefined : r.query ? `${r.path}?${r.query}` : r.path),
  "request.url_path": (_m, r) => r.path,
  "request.host": (_m, r) => r.authority,
  "request.scheme": (_m, r) => r.scheme,
  "request.protocol": (_m, r) => (r.protocol === "tcp" ? undefined : r.protocolVersion === "2" ? "HTTP/2" : `HTTP/${r.protocolVersion ?? "1.1"}`),
  "request.id": (_m, r) => r.requestId,
  "request.useragent": (_m, r) => r.userAgent,
  "request.size": (_m, r) => r.requestBytes,
  "request.duration": (_m, r) => r.durationMs,
  "source.address": (_m, r) => r.clientAddress,
  "source.port": (_m, r) => r.clientPort,
  "source.principal": (m) => m.source.principal,
  "destination.service": (m) => m.service.host,
  "connection.mtls": (m) => m.securityPolicy === "mutual_tls",
  "upstream.address": (_m, r) => r.upstreamHost,
  "xds.cluster_name": (_m, r) => r.upstreamCluster,
  "xds.route_name": (_m, r) => r.routeName,
};

type Token = { kind: "num" | "str" | "id" | "op"; text: string; value?: number | string; col: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const col = i + 1;
    const num = /^(\d+\.\d+|\d+)/.exec(src.slice(i));
    if (num) {
      out.push({ kind: "num", text: num[0], value: Number(num[0]), col });
      i += num[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\" && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw new FilterSyntaxError("unterminated string", col);
      out.push({ kind: "str", text: src.slice(i, j + 1), value: s, col });
      i = j + 1;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ kind: "id", text: id[0], col });
      i += id[0].length;
      continue;
    }
    const op = /^(==|!=|<=|>=|&&|\|\||[<>!().,[\]])/.exec(src.slice(i));
    if (!op) throw new FilterSyntaxError(`unexpected character "${c}"`, col);
    out.push({ kind: "op", text: op[0], col });
    i += op[0].length;
  }
  return out;
}

function num(v: Value): number | undefined {
  if (typeof v === "number") return v;
  if (v instanceof FlagsValue) return v.text === "" ? 0 : 1;
  return undefined;
}

function str(v: Value): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof FlagsValue) return v.text;
  return undefined;
}

class TypeMismatch extends Error {}
const mismatch = new TypeMismatch();

function equal(a: Value, b: Value): boolean {
  if (a instanceof FlagsValue || b instanceof FlagsValue) {
    const other = a instanceof FlagsValue ? b : a;
    const flags = (a instanceof FlagsValue ? a : b) as FlagsValue;
    // Only "no flags" (0) has a meaning shared with Envoy's bitmask; other numbers do not compare.
    if (typeof other === "number" && other === 0) return flags.text === "";
    if (typeof other === "string") return flags.text === other || (flags.text === "" && other === "-");
    throw mismatch;
  }
  if (a === undefined || b === undefined) throw mismatch;
  if (typeof a !== typeof b) throw mismatch;
  return a === b;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly end: number) {}

  private peek(text?: string): Token | undefined {
    const t = this.tokens[this.pos];
    return text === undefined || t?.text === text ? t : undefined;
  }
  private expect(text: string): Token {
    const t = this.tokens[this.pos];
    if (t?.text !== text) throw new FilterSyntaxError(`expected "${text}"${t ? ` but found "${t.text}"` : " at the end"}`, t?.col ?? this.end);
    this.pos++;
    return t;
  }

  parse(): Eval {
    const e = this.or();
    const t = this.tokens[this.pos];
    if (t) throw new FilterSyntaxError(`unexpected "${t.text}"`, t.col);
    return e;
  }
  private or(): Eval {
    let left = this.and();
    while (this.peek("||")) {
      this.pos++;
      const l = left;
      const r = this.and();
      left = (m, q) => l(m, q) === true || r(m, q) === true;
    }
    return left;
  }
  private and(): Eval {
    let left = this.unary();
    while (this.peek("&&")) {
      this.pos++;
      const l = left;
      const r = this.unary();
      left = (m, q) => l(m, q) === true && r(m, q) === true;
    }
    return left;
  }
  private unary(): Eval {
    if (this.peek("!")) {
      this.pos++;
      const e = this.unary();
      return (m, q) => {
        const v = e(m, q);
        if (typeof v !== "boolean") throw mismatch;
        return !v;
      };
    }
    return this.comparison();
  }
  private comparison(): Eval {
    const left = this.primary();
    const t = this.peek();
    if (!t || !["==", "!=", "<", "<=", ">", ">=", "in"].includes(t.text)) return left;
    this.pos++;
    const right = this.primary();
    switch (t.text) {
      case "==": return (m, q) => equal(left(m, q), right(m, q));
      case "!=": return (m, q) => !equal(left(m, q), right(m, q));
      case "in": return (m, q) => {
        const list = right(m, q);
        if (!Array.isArray(list)) throw mismatch;
        const v = left(m, q);
        return list.some((x) => equal(v, x));
      };
      default: {
        const op = t.text;
        return (m, q) => {
          const a = left(m, q);
          const b = right(m, q);
          const x = num(a) ?? str(a);
          const y = num(b) ?? str(b);
          if (x === undefined || y === undefined || typeof x !== typeof y) throw mismatch;
          return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
        };
      }
    }
  }
  private primary(): Eval {
    const t = this.tokens[this.pos];
    if (!t) throw new FilterSyntaxError("expression ends too early", this.end);
    this.pos++;
    let e: Eval;
    if (t.kind === "num" || t.kind === "str") {
      const v = t.value!;
      e = () => v;
    } else if (t.text === "(") {
      e = this.or();
      this.expect(")");
    } else if (t.text === "[") {
      const items: Eval[] = [];
      while (!this.peek("]")) {
        items.push(this.primary());
        if (!this.peek("]")) this.expect(",");
      }
      this.expect("]");
      e = (m, q) => items.map((i) => i(m, q));
    } else if (t.kind === "id" && (t.text === "true" || t.text === "false")) {
      const v = t.text === "true";
      e = () => v;
    } else if (t.kind === "id" && t.text === "duration" && this.peek("(")) {
      this.pos++;
      const arg = this.tokens[this.pos++];
      const ms = arg?.kind === "str" ? parseDuration(String(arg.value)) : undefined;
      if (ms === undefined) throw new FilterSyntaxError('duration() takes a string such as "1.5s" or "200ms"', arg?.col ?? t.col);
      this.expect(")");
      e = () => ms;
    } else if (t.kind === "id" && t.text === "has" && this.peek("(")) {
      this.pos++;
      const attr = this.attribute();
      this.expect(")");
      e = (m, q) => attr(m, q) !== undefined;
    } else if (t.kind === "id") {
      this.pos--;
      e = this.attribute();
    } else {
      throw new FilterSyntaxError(`unexpected "${t.text}"`, t.col);
    }
    return this.methods(e);
  }
  private attribute(): Eval {
    const first = this.tokens[this.pos];
    if (first?.kind !== "id") throw new FilterSyntaxError("expected an attribute name", first?.col ?? this.end);
    this.pos++;
    let name = first.text;
    while (this.peek(".") && this.tokens[this.pos + 1]?.kind === "id" && this.tokens[this.pos + 2]?.text !== "(") {
      name += "." + this.tokens[this.pos + 1]!.text;
      this.pos += 2;
    }
    const attr = ATTRIBUTES[name];
    if (!attr) throw new FilterSyntaxError(`unknown attribute "${name}" (known: ${Object.keys(ATTRIBUTES).join(", ")})`, first.col);
    return attr;
  }
  private methods(target: Eval): Eval {
    let e = target;
    while (this.peek(".")) {
      const m = this.tokens[this.pos + 1];
      if (m?.kind !== "id" || !["contains", "startsWith", "endsWith"].includes(m.text)) {
        throw new FilterSyntaxError(`unsupported method "${m?.text ?? ""}" (supported: contains, startsWith, endsWith)`, m?.col ?? this.end);
      }
      this.pos += 2;
      this.expect("(");
      const arg = this.or();
      this.expect(")");
      const recv = e;
      const name = m.text;
      e = (mesh, q) => {
        const s = str(recv(mesh, q));
        const a = str(arg(mesh, q));
        if (s === undefined || a === undefined) throw mismatch;
        return name === "contains" ? s.includes(a) : name === "startsWith" ? s.startsWith(a) : s.endsWith(a);
      };
    }
    return e;
  }
}

/** `"1.5s"`, `"200ms"`, `"1m"`, `"1h"`, `"10us"` as milliseconds; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)$/.exec(s.trim());
  if (!m) return undefined;
  const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, ns: 0.000001 }[m[2] as "h"];
  return Number(m[1]) * unit;
}

export type LogFilter = (mesh: MeshContext, req: RequestRecord) => boolean;

/**
 * Compiles `expression`. On error, `filter` is undefined and `diagnostics` says where (column) and why.
 * @example
 * const { filter } = compileLogFilter('response.code >= 500 || response.flags != 0');
 * filter!(mesh, req); // true for a 503 or a request with UF
 */
export function compileLogFilter(expression: string, at: Partial<Diagnostic> = {}): { filter?: LogFilter; diagnostics: Diagnostic[] } {
  try {
    const e = new Parser(tokenize(expression), expression.length + 1).parse();
    const filter: LogFilter = (mesh, req) => {
      try {
        return e(mesh, req) === true;
      } catch (err) {
        if (err instanceof TypeMismatch) return false;
        throw err;
      }
    };
    return { filter, diagnostics: [] };
  } catch (err) {
    if (!(err instanceof FilterSyntaxError)) throw err;
    return { diagnostics: [{ path: "filter", ...at, severity: "error", message: `column ${err.column}: ${err.message}` }] };
  }
}
