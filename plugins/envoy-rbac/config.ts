/**
 * @module plugins/envoy-rbac/config
 * How an Envoy RBAC filter config reaches weft: as the protobuf message
 * (`envoy.extensions.filters.http.rbac.v3.RBAC` or `…network.rbac.v3.RBAC`, @bufbuild/protobuf v2), as a
 * `google.protobuf.Any` holding one (what LDS carries in `typed_config`), or as its proto3 JSON form (what
 * Envoy's YAML bootstrap holds, e.g. `{ "rules": { "action": "ALLOW", "policies": { … } } }`), optionally
 * with an `@type` naming the network filter. The schema parses once; a bad config is a validation error
 * naming the field, never a request-time surprise.
 */
import { createRegistry, fromJson, isMessage, type JsonValue } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { RBACSchema as NetworkRbacSchema, type RBAC as NetworkRbac } from "../../gen/proto/envoy/extensions/filters/network/rbac/v3/rbac_pb.ts";
import { ExtAuthzSchema, HttpRbacSchema, UriTemplateMatchConfigSchema, type ExtAuthz, type HttpRbac } from "./protos.ts";
import { z } from "../../core/schema/index.ts";

/** A parsed RBAC filter config: which filter it configures, and the message. */
export type EnvoyRbacConfig =
  | { kind: "http"; message: HttpRbac }
  | { kind: "network"; message: NetworkRbac };

/** Types the JSON and Any forms may name (the filters, and the Any inside `uri_template` permissions). */
export const envoyRbacRegistry = createRegistry(HttpRbacSchema, NetworkRbacSchema, ExtAuthzSchema, UriTemplateMatchConfigSchema);

const TYPE_PREFIX = "type.googleapis.com/";

/**
 * Parses any accepted form of an RBAC filter config.
 * @throws Error naming what is wrong.
 * @example
 * parseEnvoyRbacConfig({ rules: { action: "DENY", policies: { p: { permissions: [{ any: true }], principals: [{ any: true }] } } } });
 */
export function parseEnvoyRbacConfig(input: unknown): EnvoyRbacConfig {
  if (isMessage(input, HttpRbacSchema)) return { kind: "http", message: input };
  if (isMessage(input, NetworkRbacSchema)) return { kind: "network", message: input };
  if (isMessage(input, AnySchema)) {
    const unpacked = anyUnpack(input as Any, envoyRbacRegistry);
    if (unpacked === undefined) throw new Error(`typed_config ${(input as Any).typeUrl} is not an RBAC filter config`);
    return parseEnvoyRbacConfig(unpacked);
  }
  if (input === null || typeof input !== "object" || Array.isArray(input)) throw new Error("expected an RBAC message, an Any holding one, or its JSON object");
  const { ["@type"]: type, ...rest } = input as Record<string, JsonValue>;
  const json = rest as JsonValue;
  if (type === undefined || type === TYPE_PREFIX + HttpRbacSchema.typeName) {
    return { kind: "http", message: fromJson(HttpRbacSchema, json, { registry: envoyRbacRegistry }) };
  }
  if (type === TYPE_PREFIX + NetworkRbacSchema.typeName) {
    return { kind: "network", message: fromJson(NetworkRbacSchema, json, { registry: envoyRbacRegistry }) };
  }
  throw new Error(`@type ${String(type)} is not an RBAC filter config`);
}

/** Parses an HTTP ext_authz config (message, Any or JSON); only `filter_enabled_metadata` matters to a decision. */
export function parseExtAuthzConfig(input: unknown): ExtAuthz {
  if (isMessage(input, ExtAuthzSchema)) return input;
  if (isMessage(input, AnySchema)) {
    const unpacked = anyUnpack(input as Any, envoyRbacRegistry);
    if (!unpacked || !isMessage(unpacked, ExtAuthzSchema)) throw new Error(`typed_config ${(input as Any).typeUrl} is not an ext_authz config`);
    return unpacked;
  }
  const { ["@type"]: _type, ...rest } = (input ?? {}) as Record<string, JsonValue>;
  void _type;
  return fromJson(ExtAuthzSchema, rest as JsonValue, { registry: envoyRbacRegistry });
}

/** The filter's config schema: input in any accepted form, output the parsed config. */
export const envoyRbacConfigSchema: z.ZodType<EnvoyRbacConfig> = z.unknown().transform((value, ctx) => {
  try {
    return parseEnvoyRbacConfig(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `invalid Envoy RBAC config: ${(err as Error).message}` });
    return z.NEVER;
  }
}) as unknown as z.ZodType<EnvoyRbacConfig>;
