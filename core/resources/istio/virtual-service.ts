/**
 * @module core/resources/istio/virtual-service
 * Schema of Istio's VirtualService (networking.istio.io v1, v1beta1, v1alpha3 share one schema), field
 * for field as `networking/v1/virtual_service.proto` and its generated CRD define it. The semantic
 * checks live in `virtual-service-check.ts`.
 */
import { z } from "../../schema/index.ts";
import { strict } from "../fields.ts";
import { defineKind } from "../kind.ts";
import { destination, enumOf, int32, nonNegInt32, o, oneOf, port, presenceStringMatch, resource, stringList, stringMap, stringMatch, uint32 } from "./common.ts";
import { duration } from "./duration.ts";
import { checkVirtualService } from "./virtual-service-check.ts";

const headerOperations = strict({ set: o(stringMap), add: o(stringMap), remove: o(stringList) });
const headers = strict({ request: o(headerOperations), response: o(headerOperations) });
const percent = strict({ value: o(z.number()) });

const httpMatchRequest = strict({
  name: o(z.string()),
  uri: o(stringMatch),
  scheme: o(stringMatch),
  method: o(stringMatch),
  authority: o(stringMatch),
  headers: o(z.record(z.string(), presenceStringMatch)),
  port: o(port),
  sourceLabels: o(stringMap),
  gateways: o(stringList),
  queryParams: o(z.record(z.string(), presenceStringMatch)),
  ignoreUriCase: o(z.boolean()),
  withoutHeaders: o(z.record(z.string(), presenceStringMatch)),
  sourceNamespace: o(z.string()),
  statPrefix: o(z.string()),
});

const httpRouteDestination = strict({ destination, weight: o(nonNegInt32), headers: o(headers) });
const routeDestination = strict({ destination, weight: o(nonNegInt32) });

const httpRedirect = strict({
  uri: o(z.string()),
  authority: o(z.string()),
  port: o(port),
  derivePort: o(enumOf(["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"])),
  scheme: o(z.string()),
  redirectCode: o(uint32),
}).superRefine(oneOf(["port", "derivePort"]));

const httpBody = strict({ string: o(z.string()), bytes: o(z.string()) }).superRefine(oneOf(["string", "bytes"]));
const httpDirectResponse = strict({ status: uint32, body: o(httpBody) });

const httpRewrite = strict({
  uri: o(z.string()),
  authority: o(z.string()),
  uriRegexRewrite: o(strict({ match: o(z.string()), rewrite: o(z.string()) })),
});

const httpRetry = strict({
  attempts: o(nonNegInt32),
  perTryTimeout: o(duration()),
  retryOn: o(z.string()),
  retryRemoteLocalities: o(z.boolean()),
  retryIgnorePreviousHosts: o(z.boolean()),
  backoff: o(duration()),
});

const corsPolicy = strict({
  allowOrigin: o(stringList),
  allowOrigins: o(z.array(stringMatch)),
  allowMethods: o(stringList),
  allowHeaders: o(stringList),
  exposeHeaders: o(stringList),
  maxAge: o(duration({ seconds: true })),
  allowCredentials: o(z.boolean()),
  unmatchedPreflights: o(enumOf(["UNSPECIFIED", "FORWARD", "IGNORE"])),
});

const faultDelay = strict({
  fixedDelay: o(duration()),
  exponentialDelay: o(duration()),
  percent: o(int32),
  percentage: o(percent),
}).superRefine(oneOf(["fixedDelay", "exponentialDelay"], true));

const faultAbort = strict({
  httpStatus: o(int32),
  grpcStatus: o(z.string()),
  http2Error: o(z.string()),
  percentage: o(percent),
}).superRefine(oneOf(["httpStatus", "grpcStatus", "http2Error"]));

const httpFaultInjection = strict({ delay: o(faultDelay), abort: o(faultAbort) });

const httpMirrorPolicy = strict({ destination, percentage: o(percent) });

const httpRoute = strict({
  name: o(z.string()),
  match: o(z.array(httpMatchRequest)),
  route: o(z.array(httpRouteDestination)),
  redirect: o(httpRedirect),
  directResponse: o(httpDirectResponse),
  delegate: o(strict({ name: o(z.string()), namespace: o(z.string()) })),
  rewrite: o(httpRewrite),
  timeout: o(duration()),
  retries: o(httpRetry),
  fault: o(httpFaultInjection),
  mirror: o(destination),
  mirrors: o(z.array(httpMirrorPolicy)),
  mirrorPercent: o(uint32),
  // The proto sets json_name "mirror_percent" on this deprecated field, so Istio's CRD accepts both spellings.
  mirror_percent: o(uint32),
  mirrorPercentage: o(percent),
  corsPolicy: o(corsPolicy),
  headers: o(headers),
});

const l4Match = strict({
  destinationSubnets: o(stringList),
  port: o(port),
  sourceLabels: o(stringMap),
  gateways: o(stringList),
  sourceNamespace: o(z.string()),
  sourceSubnet: o(z.string()),
});

const tlsMatch = strict({
  sniHosts: stringList,
  destinationSubnets: o(stringList),
  port: o(port),
  sourceLabels: o(stringMap),
  gateways: o(stringList),
  sourceNamespace: o(z.string()),
});

const tcpRoute = strict({ match: o(z.array(l4Match)), route: o(z.array(routeDestination)) });
const tlsRoute = strict({ match: z.array(tlsMatch), route: o(z.array(routeDestination)) });

export const virtualServiceSpec = strict({
  hosts: o(stringList),
  gateways: o(stringList),
  http: o(z.array(httpRoute)),
  tls: o(z.array(tlsRoute)),
  tcp: o(z.array(tcpRoute)),
  exportTo: o(stringList),
});

export const virtualServiceSchema = resource(virtualServiceSpec);
export type VirtualService = z.infer<typeof virtualServiceSchema>;
export type HttpRoute = z.infer<typeof httpRoute>;

export const virtualServiceKind = defineKind({
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  kind: "VirtualService",
  schema: virtualServiceSchema,
  check: checkVirtualService,
});
