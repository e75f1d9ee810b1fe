/**
 * @module proxy/xds/common
 * Small pieces the Envoy → weft translators share: unpacking an `Any` safely, reporting the fields of a
 * message that are set but not translated (by protobuf reflection, so a new Envoy field is reported
 * rather than silently dropped), durations, Envoy string matchers as IR matches, addresses and the
 * SDS config sources weft accepts (ADS, or none).
 */
import { isFieldSet, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { anyUnpack, type Any, type Duration } from "@bufbuild/protobuf/wkt";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { Address } from "../../gen/proto/envoy/config/core/v3/address_pb.ts";
import type { ConfigSource } from "../../gen/proto/envoy/config/core/v3/config_source_pb.ts";
import type { StringMatcher } from "../../gen/proto/envoy/type/matcher/v3/string_pb.ts";
import type { StringMatch } from "../../core/ir/model.ts";
import { joinPath, type IssueSink } from "./issues.ts";

export const TYPE_PREFIX = "type.googleapis.com/";

const TYPED_STRUCTS = new Set(["udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct"]);

/** The `type_url` field (1) of a TypedStruct's bytes, or undefined. */
function typedStructUrl(bytes: Uint8Array): string | undefined {
  try {
    const r = new BinaryReader(bytes);
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) return r.string();
      r.skip(wt);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * The message type name inside an `Any` (without the `type.googleapis.com/` prefix). For a TypedStruct
 * (Istio wraps its own filters' configs in one) the name of the type it stands for, so filters are classified
 * by what they are; unpacking it as that type still fails, which refuses it where weft needs the config.
 */
export function anyTypeName(any: Any): string {
  const outer = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  if (!TYPED_STRUCTS.has(outer)) return outer;
  const inner = typedStructUrl(any.value);
  return inner ? inner.slice(inner.lastIndexOf("/") + 1) : outer;
}

/** Unpacks `any` as `schema`; reports an error (and returns undefined) for another type or bad bytes. */
export function unpack<Desc extends DescMessage>(any: Any | undefined, schema: Desc, issues: IssueSink, path: string): MessageShape<Desc> | undefined {
  if (!any) {
    issues.error(path, `missing typed_config (${schema.typeName})`);
    return undefined;
  }
  try {
    const m = anyUnpack(any, schema);
    if (m === undefined) issues.error(path, `expected ${schema.typeName}, got ${anyTypeName(any)}`);
    return m;
  } catch (err) {
    issues.error(path, `cannot decode ${schema.typeName}: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Reports every field of `message` that is set but not in `handled` (proto field names). `errorFields`
 * are fields whose presence must fail the update (ignoring them could widen what is allowed).
 */
export function reportUnhandled<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>, handled: readonly string[], issues: IssueSink, path: string, errorFields: readonly string[] = []): void {
  for (const f of schema.fields) {
    if (handled.includes(f.name)) continue;
    if (!isFieldSet(message, f)) continue;
    if (errorFields.includes(f.name)) issues.error(joinPath(path, f.name), `${schema.typeName}.${f.name} is not supported by weft`);
    else issues.ignored(joinPath(path, f.name), "not supported by weft; ignored");
  }
}

export function durationMs(d: Duration | undefined): number | undefined {
  return d ? Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6) : undefined;
}

/** Envoy's `StringMatcher` as an IR `StringMatch`; `contains` becomes a regex. */
export function stringMatch(m: StringMatcher | undefined, issues: IssueSink, path: string): StringMatch | undefined {
  if (!m) return undefined;
  const ic = m.ignoreCase ? { ignoreCase: true } : {};
  const p = m.matchPattern;
  switch (p.case) {
    case "exact": return { exact: p.value, ...ic };
    case "prefix": return { prefix: p.value, ...ic };
    case "suffix": return { suffix: p.value, ...ic };
    case "safeRegex": return { regex: m.ignoreCase ? `(?i:${p.value.regex})` : p.value.regex };
    case "contains": return { regex: `${m.ignoreCase ? "(?i)" : ""}.*${escapeRegex(p.value)}.*` };
    default:
      issues.error(path, `string matcher ${p.case ?? "(empty)"} is not supported`);
      return undefined;
  }
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function socketAddress(a: Address | undefined, issues: IssueSink, path: string): { address: string; port: number } | undefined {
  if (a?.address.case !== "socketAddress") {
    issues.error(path, `only socket addresses are supported (got ${a?.address.case ?? "none"})`);
    return undefined;
  }
  const s = a.address.value;
  if (s.portSpecifier.case !== "portValue") {
    issues.error(joinPath(path, "socket_address.port_value"), "a numeric port is required");
    return undefined;
  }
  if (s.protocol !== 0) issues.error(joinPath(path, "socket_address.protocol"), "only TCP is supported");
  return { address: s.address, port: s.portSpecifier.value };
}

/** SDS and RDS must come over ADS (or the config source left empty, which means the same to weft). */
export function checkAdsSource(src: ConfigSource | undefined, issues: IssueSink, path: string): void {
  const c = src?.configSourceSpecifier.case;
  if (c === undefined || c === "ads" || c === "self") return;
  issues.error(path, `config source ${c} is not supported; weft takes every resource over its one ADS stream`);
}
