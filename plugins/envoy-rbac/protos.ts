/**
 * @module plugins/envoy-rbac/protos
 * The generated Envoy messages this plugin reads whose folders are named `http` and `path`. The portability
 * lint rule forbids imports matching Node's `http`/`path` module names by path segment, which also catches
 * these generated files (pure @bufbuild/protobuf code, Web-standard only); they are imported here, once,
 * with the rule disabled per line.
 */
// eslint-disable-next-line no-restricted-imports -- generated protobuf under gen/…/http/, not Node's "http"
export { RBACSchema as HttpRbacSchema, type RBAC as HttpRbac } from "../../gen/proto/envoy/extensions/filters/http/rbac/v3/rbac_pb.ts";
// eslint-disable-next-line no-restricted-imports -- generated protobuf under gen/…/http/, not Node's "http"
export { ExtAuthzSchema, type ExtAuthz } from "../../gen/proto/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.ts";
// eslint-disable-next-line no-restricted-imports -- generated protobuf under gen/…/path/, not Node's "path"
export { UriTemplateMatchConfigSchema } from "../../gen/proto/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.ts";
