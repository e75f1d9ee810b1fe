/**
 * @module control/extauthz/node/server
 * Node host for the ext_authz server: the Authorization service on weft's shared gRPC host (control/node/grpc-server.ts), as Envoy's `grpc_service` speaks it.
 */
import { startGrpcServer, type GrpcNodeServer, type GrpcServerOptions, type GrpcServerTls } from "../../node/grpc-server.ts";
import { createExtAuthzRoutes, type ExtAuthzOptions } from "../service.ts";

export type ExtAuthzServerTls = GrpcServerTls;
export type ExtAuthzNodeServer = GrpcNodeServer;
export interface ExtAuthzServerOptions extends ExtAuthzOptions, GrpcServerOptions {}

/** Starts the ext_authz server (see control/node/grpc-server.ts for options and the returned handle). */
export function startExtAuthzServer(options: ExtAuthzServerOptions): Promise<ExtAuthzNodeServer> {
  return startGrpcServer(createExtAuthzRoutes(options), options);
}
