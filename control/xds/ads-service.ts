/**
 * @module control/xds/ads-service
 * The xDS gRPC services as connect-es route registrations: `envoy.service.discovery.v3.AggregatedDiscoveryService`
 * (StreamAggregatedResources, DeltaAggregatedResources) and `envoy.service.secret.v3.SecretDiscoveryService`
 * (StreamSecrets, DeltaSecrets), all served from one snapshot cache and status registry. Runtime-neutral:
 * any connect-es server adapter (Node http2 in `control/xds/node/`, or others) can mount the routes.
 */
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { AggregatedDiscoveryService } from "../../gen/proto/envoy/service/discovery/v3/ads_pb.ts";
import { SecretDiscoveryService } from "../../gen/proto/envoy/service/secret/v3/sds_pb.ts";
import { deltaStream } from "./delta-stream.ts";
import { leanStreamAggregatedResources, toDiscoveryRequests } from "./lean-request.ts";
import { sotwStream } from "./sotw-stream.ts";
import { StreamProtocolError, type StreamOptions } from "./stream-common.ts";

/** A stream's protocol errors as gRPC InvalidArgument (shared with the authenticated host in control/node). */
export async function* mapErrors<T>(it: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* it;
  } catch (err) {
    if (err instanceof StreamProtocolError) throw new ConnectError(err.message, Code.InvalidArgument);
    throw err;
  }
}

/**
 * Returns a connect-es `routes` function serving ADS and SDS.
 * @example
 * const routes = createXdsRoutes({ watcher: cache, status });
 * http2.createServer(connectNodeAdapter({ routes }));
 */
export function createXdsRoutes(options: StreamOptions): (router: ConnectRouter) => void {
  return (router) => {
    // SotW requests are read with the lean schema (see lean-request.ts); the wire format is the same.
    router.rpc(leanStreamAggregatedResources, (requests, ctx) => mapErrors(sotwStream(toDiscoveryRequests(requests), options, ctx.signal)));
    router.rpc(AggregatedDiscoveryService.method.deltaAggregatedResources, (requests, ctx) => mapErrors(deltaStream(requests, options, ctx.signal)));
    router.service(SecretDiscoveryService, {
      streamSecrets: (requests, ctx) => mapErrors(sotwStream(requests, options, ctx.signal)),
      deltaSecrets: (requests, ctx) => mapErrors(deltaStream(requests, options, ctx.signal)),
      fetchSecrets: () => {
        throw new ConnectError("FetchSecrets is not served; use StreamSecrets or ADS", Code.Unimplemented);
      },
    });
  };
}
