/**
 * @module control/xds/node/server
 * Node host for the xDS server: the connect-es ADS/SDS routes on weft's shared gRPC host (control/node/grpc-server.ts).
 */
import { startGrpcServer, type GrpcNodeServer, type GrpcServerOptions, type GrpcServerTls } from "../../node/grpc-server.ts";
import { createXdsRoutes } from "../ads-service.ts";
import type { StreamOptions } from "../stream-common.ts";

export type XdsServerTls = GrpcServerTls;
export type XdsNodeServer = GrpcNodeServer;
export interface XdsNodeServerOptions extends StreamOptions, GrpcServerOptions {}

/** Starts the xDS server (see control/node/grpc-server.ts for options and the returned handle). */
export function startXdsServer(options: XdsNodeServerOptions): Promise<XdsNodeServer> {
  return startGrpcServer(createXdsRoutes(options), options);
}
