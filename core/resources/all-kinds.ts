/**
 * @module core/resources/all-kinds
 * Every resource kind weft accepts, in one list: Istio's kinds verbatim (AuthorizationPolicy from the
 * policy engine, the rest from `istio/`). Later front ends (weft's own kinds, Consul config entries)
 * add theirs here.
 */
import { authorizationPolicyKind } from "../policy/kind.ts";
import type { KindSpec } from "./kind.ts";
import { istioKinds } from "./istio/index.ts";

export const allKinds: readonly KindSpec[] = [authorizationPolicyKind as KindSpec, ...istioKinds];
