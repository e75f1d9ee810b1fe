/**
 * @module control/xds/translate/common
 * Small conversions the IR → xDS translators share: milliseconds to `Duration`, IR string matches to
 * Envoy `StringMatcher`s, percentages to `FractionalPercent`, header mutations to `HeaderValueOption`s,
 * socket addresses and the ADS config source.
 */
import { create } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import type { Address } from "../../../gen/proto/envoy/config/core/v3/address_pb.ts";
import { AddressSchema } from "../../../gen/proto/envoy/config/core/v3/address_pb.ts";
import { HeaderValueOption_HeaderAppendAction, HeaderValueOptionSchema, type HeaderValueOption } from "../../../gen/proto/envoy/config/core/v3/base_pb.ts";
import { ApiVersion, ConfigSourceSchema, type ConfigSource } from "../../../gen/proto/envoy/config/core/v3/config_source_pb.ts";
import { StringMatcherSchema, type StringMatcher } from "../../../gen/proto/envoy/type/matcher/v3/string_pb.ts";
import { FractionalPercent_DenominatorType, FractionalPercentSchema, type FractionalPercent } from "../../../gen/proto/envoy/type/v3/percent_pb.ts";
import type { HeaderMutation, StringMatch } from "../../../core/ir/model.ts";

export function duration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return create(DurationSchema, { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) });
}

export function durationMs(d: Duration | undefined): number | undefined {
  return d ? Number(d.seconds) * 1000 + d.nanos / 1e6 : undefined;
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function stringMatcher(m: StringMatch): StringMatcher {
  if ("exact" in m) return create(StringMatcherSchema, { matchPattern: { case: "exact", value: m.exact }, ignoreCase: m.ignoreCase === true });
  if ("prefix" in m) return create(StringMatcherSchema, { matchPattern: { case: "prefix", value: m.prefix }, ignoreCase: m.ignoreCase === true });
  if ("suffix" in m) return create(StringMatcherSchema, { matchPattern: { case: "suffix", value: m.suffix }, ignoreCase: m.ignoreCase === true });
  if ("regex" in m) return regexMatcher(m.regex);
  return regexMatcher(".*");
}

export function regexMatcher(regex: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: "safeRegex", value: { regex } } });
}

/** `percent` (0–100, fractions allowed) as a FractionalPercent per million. */
export function fractionalPercent(percent: number): FractionalPercent {
  return create(FractionalPercentSchema, { numerator: Math.round(percent * 10_000), denominator: FractionalPercent_DenominatorType.MILLION });
}

export function headersToAdd(m: HeaderMutation | undefined): HeaderValueOption[] {
  if (!m) return [];
  const out: HeaderValueOption[] = [];
  for (const [key, value] of Object.entries(m.set ?? {})) {
    out.push(create(HeaderValueOptionSchema, { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD }));
  }
  for (const [key, value] of Object.entries(m.add ?? {})) {
    out.push(create(HeaderValueOptionSchema, { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD }));
  }
  return out;
}

export function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, { address: { case: "socketAddress", value: { address, portSpecifier: { case: "portValue", value: port } } } });
}

export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, { configSourceSpecifier: { case: "ads", value: {} }, resourceApiVersion: ApiVersion.V3 });
}

/** Istio's cluster naming: `outbound|<port>|<subset>|<host>` (and `inbound|<port>||`). */
export function clusterName(direction: "outbound" | "inbound", port: number, subset: string, host: string): string {
  return `${direction}|${port}|${subset}|${host}`;
}
