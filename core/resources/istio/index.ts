/**
 * @module core/resources/istio
 * Istio's resource kinds as weft accepts them verbatim: networking (VirtualService, DestinationRule,
 * ServiceEntry, WorkloadEntry, Gateway, Sidecar), security (PeerAuthentication, RequestAuthentication;
 * AuthorizationPolicy comes from `core/policy/`) and telemetry (Telemetry). Each kind's schema follows
 * istio/api field for field (camelCase JSON names; unknown fields are errors with a "did you mean"
 * hint) and its `check` mirrors the cheap semantic checks of Istio's `pkg/config/validation`.
 *
 * @example
 * import { validateResource } from "../kind.ts";
 * const diagnostics = validateResource(obj, istioKinds, { file: "reviews.yaml", line: 1 });
 */
import type { KindSpec } from "../kind.ts";
import { destinationRuleKind } from "./destination-rule.ts";
import { gatewayKind } from "./gateway.ts";
import { peerAuthenticationKind, requestAuthenticationKind } from "./security.ts";
import { serviceEntryKind, workloadEntryKind } from "./service-entry.ts";
import { sidecarKind } from "./sidecar.ts";
import { telemetryKind } from "./telemetry.ts";
import { virtualServiceKind } from "./virtual-service.ts";

export const istioKinds: KindSpec[] = [
  virtualServiceKind,
  destinationRuleKind,
  serviceEntryKind,
  workloadEntryKind,
  gatewayKind,
  sidecarKind,
  peerAuthenticationKind,
  requestAuthenticationKind,
  telemetryKind,
];

export { parseGoDuration, durationProblem } from "./duration.ts";
