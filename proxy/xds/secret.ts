/**
 * @module proxy/xds/secret
 * Envoy `Secret` (SDS) → a weft secret: a certificate chain with its private key, or a trust bundle.
 * Inline PEMs stay inline (the host builds TLS contexts from them and rotates without dropping
 * connections); file names stay files. Session ticket keys and generic secrets are reported.
 */
import { SecretSchema, type Secret } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/secret_pb.ts";
import type { SecretConfig } from "../config/types.ts";
import { reportUnhandled } from "./common.ts";
import type { IssueSink } from "./issues.ts";
import { certificateSecret, dataSourceText, validationSecret } from "./tls.ts";

export function translateSecret(s: Secret, issues: IssueSink): SecretConfig | null {
  reportUnhandled(SecretSchema, s, ["name", "tls_certificate", "validation_context"], issues, "");
  const t = s.type;
  if (t.case === "tlsCertificate") {
    const chain = dataSourceText(t.value.certificateChain, issues, "tls_certificate.certificate_chain");
    const key = dataSourceText(t.value.privateKey, issues, "tls_certificate.private_key");
    if (t.value.privateKeyProvider) issues.error("tls_certificate.private_key_provider", "not supported by weft");
    return chain && key ? certificateSecret(s.name, chain, key) : null;
  }
  if (t.case === "validationContext") {
    if (t.value.matchTypedSubjectAltNames.length || t.value.matchSubjectAltNames.length) {
      issues.error("validation_context", "SAN matchers in an SDS validation context are not supported; put them in the transport socket's default_validation_context");
    }
    const ca = dataSourceText(t.value.trustedCa, issues, "validation_context.trusted_ca");
    return ca ? validationSecret(s.name, ca) : null;
  }
  issues.ignored("type", `secret type ${t.case ?? "(none)"} is not used by weft`);
  return null;
}
