/**
 * @module control/extauthz/node/server
 * Node host for the ext_authz server: the Authorization service on weft's shared gRPC host
 * (control/node/grpc-server.ts), as Envoy's `grpc_service` speaks it. `Check` is a hot unary call, so
 * it is answered on the host's lean unary path (control/node/grpc-unary.ts); connect-node still serves
 * the service for anything else (and `fastPath: false` puts Check back on connect-node).
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CheckRequestSchema, CheckResponseSchema } from "../../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import { startGrpcServer, type GrpcNodeServer, type GrpcServerOptions, type GrpcServerTls } from "../../node/grpc-server.ts";
import { GrpcStatusError } from "../../node/grpc-unary.ts";
import { createCheckHandler, createExtAuthzRoutes, type ExtAuthzOptions } from "../service.ts";

export type ExtAuthzServerTls = GrpcServerTls;
export type ExtAuthzNodeServer = GrpcNodeServer;
export interface ExtAuthzServerOptions extends ExtAuthzOptions, GrpcServerOptions {
  /** Answer Check without connect-node (default true). */
  fastPath?: boolean;
}

export const CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";

/** Starts the ext_authz server (see control/node/grpc-server.ts for options and the returned handle). */
export function startExtAuthzServer(options: ExtAuthzServerOptions): Promise<ExtAuthzNodeServer> {
  if (options.fastPath === false) return startGrpcServer(createExtAuthzRoutes(options), options);
  const check = createCheckHandler(options);
  const unary = new Map(options.unary ?? []);
  unary.set(CHECK_PATH, (bytes) => {
    let req;
    try {
      req = fromBinary(CheckRequestSchema, bytes);
    } catch (err) {
      throw new GrpcStatusError(3, `cannot decode CheckRequest: ${(err as Error).message}`);
    }
    return toBinary(CheckResponseSchema, check(req));
  });
  return startGrpcServer(createExtAuthzRoutes(options), { ...options, unary });
}
