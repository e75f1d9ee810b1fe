/**
 * @module proxy/xds/tls
 * Envoy TLS transport sockets → weft TLS settings. Certificates and trust bundles are referenced by SDS
 * name (over ADS); inline certificates become secrets of their own (named after where they appear). A
 * downstream context becomes the chain's `DownstreamTlsConfig`; an upstream context becomes the IR's
 * mutual TLS with the SPIFFE IDs its URI SAN matchers name. What weft cannot enforce (SAN matchers on
 * client certificates, plain TLS without a client certificate, non-URI or non-exact SAN matchers) is an
 * error: accepting it would connect or admit peers Envoy would refuse.
 */
import type { TransportSocket } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import type { DataSource } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import {
  CommonTlsContextSchema, DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContext,
} from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/tls_pb.ts";
import { CertificateValidationContextSchema, SubjectAltNameMatcher_SanType, type CertificateValidationContext } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/common_pb.ts";
import type { UpstreamTls } from "../../core/ir/model.ts";
import type { DownstreamTlsConfig, SecretConfig } from "../config/types.ts";
import { checkAdsSource, reportUnhandled, unpack } from "./common.ts";
import { joinPath, type IssueSink } from "./issues.ts";

export const TLS_SOCKET_NAMES = ["envoy.transport_sockets.tls", "tls"];
const RAW_SOCKET_NAMES = ["envoy.transport_sockets.raw_buffer", "raw_buffer"];

/** PEM text of a data source; files are read by the host later, so only inline sources are read here. */
export function dataSourceText(d: DataSource | undefined, issues: IssueSink, path: string): { text: string } | { file: string } | undefined {
  const s = d?.specifier;
  switch (s?.case) {
    case "inlineString": return { text: s.value };
    case "inlineBytes": return { text: new TextDecoder().decode(s.value) };
    case "filename": return { file: s.value };
    default:
      issues.error(path, `data source ${s?.case ?? "(empty)"} is not supported`);
      return undefined;
  }
}

interface CommonTls {
  secret?: string;
  validationSecret?: string;
  sanMatchers: { uri: string[]; problems: boolean };
  alpn: string[];
}

function commonTls(c: CommonTlsContext | undefined, where: string, issues: IssueSink, path: string, secrets: SecretConfig[]): CommonTls {
  const out: CommonTls = { sanMatchers: { uri: [], problems: false }, alpn: c?.alpnProtocols ?? [] };
  if (!c) return out;
  reportUnhandled(CommonTlsContextSchema, c, ["tls_certificates", "tls_certificate_sds_secret_configs", "validation_context_sds_secret_config", "combined_validation_context", "validation_context", "alpn_protocols", "tls_params"], issues, path,
    ["tls_certificate_provider_instance", "validation_context_certificate_provider", "validation_context_certificate_provider_instance", "custom_handshaker"]);
  if (c.tlsCertificateSdsSecretConfigs.length + c.tlsCertificates.length > 1) issues.ignored(path, "only the first certificate is used");
  const sds = c.tlsCertificateSdsSecretConfigs[0];
  if (sds) {
    checkAdsSource(sds.sdsConfig, issues, joinPath(path, "tls_certificate_sds_secret_configs[0].sds_config"));
    out.secret = sds.name;
  } else if (c.tlsCertificates[0]) {
    const t = c.tlsCertificates[0];
    const chain = dataSourceText(t.certificateChain, issues, joinPath(path, "tls_certificates[0].certificate_chain"));
    const key = dataSourceText(t.privateKey, issues, joinPath(path, "tls_certificates[0].private_key"));
    const name = `${where}/certificate`;
    if (chain && key) secrets.push(certificateSecret(name, chain, key));
    out.secret = name;
  }
  const v = c.validationContextType;
  let inlineValidation: CertificateValidationContext | undefined;
  if (v.case === "validationContextSdsSecretConfig") {
    checkAdsSource(v.value.sdsConfig, issues, joinPath(path, "validation_context_sds_secret_config.sds_config"));
    out.validationSecret = v.value.name;
  } else if (v.case === "combinedValidationContext") {
    const sdsV = v.value.validationContextSdsSecretConfig;
    if (sdsV) {
      checkAdsSource(sdsV.sdsConfig, issues, joinPath(path, "combined_validation_context.validation_context_sds_secret_config.sds_config"));
      out.validationSecret = sdsV.name;
    }
    inlineValidation = v.value.defaultValidationContext;
  } else if (v.case === "validationContext") {
    inlineValidation = v.value;
    if (v.value.trustedCa) {
      const ca = dataSourceText(v.value.trustedCa, issues, joinPath(path, "validation_context.trusted_ca"));
      const name = `${where}/validation`;
      if (ca) secrets.push(validationSecret(name, ca));
      out.validationSecret = name;
    }
  }
  if (inlineValidation) {
    const vp = joinPath(path, v.case === "combinedValidationContext" ? "combined_validation_context.default_validation_context" : "validation_context");
    reportUnhandled(CertificateValidationContextSchema, inlineValidation, ["trusted_ca", "match_typed_subject_alt_names", "match_subject_alt_names"], issues, vp,
      ["verify_certificate_spki", "verify_certificate_hash", "crl", "custom_validator_config", "allow_expired_certificate", "trust_chain_verification"]);
    inlineValidation.matchTypedSubjectAltNames.forEach((m, i) => {
      const p = m.matcher?.matchPattern;
      if (m.sanType === SubjectAltNameMatcher_SanType.URI && p?.case === "exact") out.sanMatchers.uri.push(p.value);
      else {
        out.sanMatchers.problems = true;
        issues.error(joinPath(vp, `match_typed_subject_alt_names[${i}]`), "weft verifies peers by exact URI SAN (SPIFFE ID) only");
      }
    });
    inlineValidation.matchSubjectAltNames.forEach((m, i) => {
      if (m.matchPattern.case === "exact" && m.matchPattern.value.startsWith("spiffe://")) out.sanMatchers.uri.push(m.matchPattern.value);
      else {
        out.sanMatchers.problems = true;
        issues.error(joinPath(vp, `match_subject_alt_names[${i}]`), "weft verifies peers by exact SPIFFE ID only");
      }
    });
  }
  return out;
}

export function certificateSecret(name: string, chain: { text: string } | { file: string }, key: { text: string } | { file: string }): SecretConfig {
  if ("file" in chain && "file" in key) return { name, tlsCertificate: { certificateChainFile: chain.file, privateKeyFile: key.file } };
  return { name, inline: { certificateChain: "text" in chain ? chain.text : "", privateKey: "text" in key ? key.text : "" } };
}

export function validationSecret(name: string, ca: { text: string } | { file: string }): SecretConfig {
  return "file" in ca ? { name, validationContext: { trustedCaFile: ca.file } } : { name, inline: { trustedCa: ca.text } };
}

function isTls(ts: TransportSocket | undefined, issues: IssueSink, path: string): boolean {
  if (!ts) return false;
  if (RAW_SOCKET_NAMES.includes(ts.name)) return false;
  if (TLS_SOCKET_NAMES.includes(ts.name) || ts.configType.case === "typedConfig") return true;
  issues.error(path, `transport socket ${ts.name} is not supported`);
  return false;
}

/** A filter chain's transport socket → its downstream TLS (undefined = plaintext). */
export function downstreamTls(ts: TransportSocket | undefined, where: string, issues: IssueSink, path: string, secrets: SecretConfig[]): DownstreamTlsConfig | undefined {
  if (!isTls(ts, issues, path)) return undefined;
  const ctx = unpack(ts!.configType.case === "typedConfig" ? ts!.configType.value : undefined, DownstreamTlsContextSchema, issues, joinPath(path, "typed_config"));
  if (!ctx) return undefined;
  const cp = joinPath(path, "typed_config");
  reportUnhandled(DownstreamTlsContextSchema, ctx, ["common_tls_context", "require_client_certificate", "session_ticket_keys", "disable_stateless_session_resumption", "disable_stateful_session_resumption"], issues, cp);
  const c = commonTls(ctx.commonTlsContext, where, issues, joinPath(cp, "common_tls_context"), secrets);
  if (c.sanMatchers.uri.length > 0) {
    issues.error(joinPath(cp, "common_tls_context"), "SAN matchers on client certificates are not enforced by weft; use an authorization policy on the principal");
  }
  if (c.secret === undefined) {
    issues.error(joinPath(cp, "common_tls_context"), "a downstream TLS context needs a certificate");
    return undefined;
  }
  const require = ctx.requireClientCertificate === true;
  if (require && c.validationSecret === undefined) issues.error(joinPath(cp, "require_client_certificate"), "requiring client certificates needs a validation context");
  const alpn = c.alpn.filter((p): p is "h2" | "http/1.1" => p === "h2" || p === "http/1.1");
  return {
    secret: c.secret,
    ...(c.validationSecret !== undefined ? { validationSecret: c.validationSecret } : {}),
    mode: "STRICT",
    requireClientCertificate: require,
    alpn: alpn.length > 0 ? alpn : ["h2", "http/1.1"],
  };
}

/** A cluster's transport socket → the IR's upstream TLS. */
export function upstreamTls(ts: TransportSocket | undefined, where: string, issues: IssueSink, path: string, secrets: SecretConfig[]): UpstreamTls {
  if (!isTls(ts, issues, path)) return { mode: "disable" };
  const cp = joinPath(path, "typed_config");
  const ctx = unpack(ts!.configType.case === "typedConfig" ? ts!.configType.value : undefined, UpstreamTlsContextSchema, issues, cp);
  if (!ctx) return { mode: "disable" };
  reportUnhandled(UpstreamTlsContextSchema, ctx, ["common_tls_context", "sni"], issues, cp);
  const c = commonTls(ctx.commonTlsContext, where, issues, joinPath(cp, "common_tls_context"), secrets);
  if (c.secret === undefined) {
    issues.error(joinPath(cp, "common_tls_context"), "upstream TLS without a client certificate is not supported by weft (only mesh mTLS)");
    return { mode: "disable" };
  }
  if (c.sanMatchers.uri.length === 0 && !c.sanMatchers.problems) {
    issues.error(joinPath(cp, "common_tls_context"), "weft verifies upstream servers by SPIFFE ID: give URI SAN matchers");
  }
  return {
    mode: "mutual",
    expectedIdentities: c.sanMatchers.uri,
    identitySource: "explicit",
    ...(ctx.sni ? { sni: ctx.sni } : {}),
    ...(c.alpn.length ? { alpn: c.alpn } : {}),
    files: { credentialName: c.secret, ...(c.validationSecret !== undefined ? { caCertificates: `secret:${c.validationSecret}` } : {}) },
  };
}
