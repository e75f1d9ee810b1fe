/**
 * @module control/xds/translate/tls
 * SDS secrets and TLS transport sockets. A workload's SVID is the secret `default` (tls_certificate:
 * chain + key) and its trust bundle is `ROOTCA` (validation_context: every trusted root), the names
 * Istio uses, so Envoy sidecars configured by weft look like Istio's. Transport sockets reference the
 * secrets over ADS; upstream contexts also pin the SPIFFE IDs the server may present.
 */
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { TransportSocketSchema, type TransportSocket } from "../../../gen/proto/envoy/config/core/v3/base_pb.ts";
import { SecretSchema, type Secret } from "../../../gen/proto/envoy/extensions/transport_sockets/tls/v3/secret_pb.ts";
import {
  CommonTlsContextSchema, DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContext,
} from "../../../gen/proto/envoy/extensions/transport_sockets/tls/v3/tls_pb.ts";
import { SubjectAltNameMatcher_SanType } from "../../../gen/proto/envoy/extensions/transport_sockets/tls/v3/common_pb.ts";
import { adsConfigSource, stringMatcher } from "./common.ts";

export const SVID_SECRET = "default";
export const BUNDLE_SECRET = "ROOTCA";
export const TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";

/** A workload's SVID as an SDS secret (`chainPem`: leaf first; the root is dropped, peers have it). */
export function svidSecret(svid: { chainPem: string[]; keyPem: string }, name = SVID_SECRET): Secret {
  const chain = svid.chainPem.length > 1 ? svid.chainPem.slice(0, -1) : svid.chainPem;
  return create(SecretSchema, {
    name,
    type: {
      case: "tlsCertificate",
      value: {
        certificateChain: { specifier: { case: "inlineString", value: chain.join("") } },
        privateKey: { specifier: { case: "inlineString", value: svid.keyPem } },
      },
    },
  });
}

/** The trust bundle (all trusted roots, during rotation both) as an SDS validation context. */
export function bundleSecret(rootsPem: readonly string[], name = BUNDLE_SECRET): Secret {
  return create(SecretSchema, {
    name,
    type: { case: "validationContext", value: { trustedCa: { specifier: { case: "inlineString", value: rootsPem.join("") } } } },
  });
}

function mtlsContext(expectedIdentities: readonly string[], alpn: readonly string[]): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    tlsCertificateSdsSecretConfigs: [{ name: SVID_SECRET, sdsConfig: adsConfigSource() }],
    validationContextType: {
      case: "combinedValidationContext",
      value: {
        defaultValidationContext: {
          matchTypedSubjectAltNames: expectedIdentities.map((id) => ({ sanType: SubjectAltNameMatcher_SanType.URI, matcher: stringMatcher({ exact: id }) })),
        },
        validationContextSdsSecretConfig: { name: BUNDLE_SECRET, sdsConfig: adsConfigSource() },
      },
    },
    alpnProtocols: [...alpn],
  });
}

/** Client side of mesh mTLS: present the SVID, verify the server against the bundle and its SPIFFE IDs. */
export function upstreamMtlsSocket(expectedIdentities: readonly string[], sni = "", alpn: readonly string[] = []): TransportSocket {
  const ctx = create(UpstreamTlsContextSchema, { commonTlsContext: mtlsContext(expectedIdentities, alpn), sni });
  return create(TransportSocketSchema, { name: TLS_TRANSPORT_SOCKET, configType: { case: "typedConfig", value: anyPack(UpstreamTlsContextSchema, ctx) } });
}

/** Client side of plain TLS to an outside server (CA from the IR, or none). */
export function upstreamSimpleTlsSocket(sni = "", caPem?: string): TransportSocket {
  const ctx = create(UpstreamTlsContextSchema, {
    sni,
    commonTlsContext: caPem ? { validationContextType: { case: "validationContext", value: { trustedCa: { specifier: { case: "inlineString", value: caPem } } } } } : {},
  });
  return create(TransportSocketSchema, { name: TLS_TRANSPORT_SOCKET, configType: { case: "typedConfig", value: anyPack(UpstreamTlsContextSchema, ctx) } });
}

/** Server side of mesh mTLS: present the SVID, require and verify a client certificate. */
export function downstreamMtlsSocket(alpn: readonly string[] = ["h2", "http/1.1"]): TransportSocket {
  const ctx = create(DownstreamTlsContextSchema, { commonTlsContext: mtlsContext([], alpn), requireClientCertificate: true });
  return create(TransportSocketSchema, { name: TLS_TRANSPORT_SOCKET, configType: { case: "typedConfig", value: anyPack(DownstreamTlsContextSchema, ctx) } });
}
