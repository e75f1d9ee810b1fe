/**
 * @module control/admin/openapi
 * The admin API's OpenAPI 3.1 document, written by hand as a typed object and served at
 * `/openapi.json`. A test checks it against the OpenAPI 3.1 schema and that every route the app
 * registers is described here (and nothing else), so the two cannot drift apart.
 */

type Schema = Record<string, unknown>;
interface Operation {
  summary: string;
  operationId: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: Schema[];
  requestBody?: Schema;
  responses: Record<string, Schema>;
}
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  paths: Record<string, Partial<Record<"get" | "post" | "delete", Operation>>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema>; responses: Record<string, Schema> };
  security: Record<string, string[]>[];
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string) => ({ description, content: { "application/json": { schema } } });
const err = (name: string) => ({ $ref: `#/components/responses/${name}` });
const query = (name: string, description: string, schema: Schema = { type: "string" }) => ({ name, in: "query", required: false, description, schema });
const pathParam = (name: string, description: string) => ({ name, in: "path", required: true, description, schema: { type: "string" } });
const str = { type: "string" };
const int = { type: "integer" };
const obj = (properties: Record<string, Schema>, required: string[] = []) => ({ type: "object", properties, ...(required.length ? { required } : {}) });
const arr = (items: Schema) => ({ type: "array", items });
const stringMap = { type: "object", additionalProperties: { type: "string" } };

const resourceBody = {
  required: true,
  description: "One or more resources: multi-document YAML, a JSON object, a JSON array, or a Kubernetes List.",
  content: { "application/yaml": { schema: str }, "application/x-yaml": { schema: str }, "text/yaml": { schema: str }, "text/x-yaml": { schema: str }, "application/json": { schema: {} } },
};
const objectPath = [pathParam("kind", "resource kind, e.g. AuthorizationPolicy"), pathParam("namespace", "namespace"), pathParam("name", "object name"), query("group", "API group, when the kind exists in several")];
const writeQuery = [query("dryRun", "validate and return the diff without writing", { type: "boolean" }), query("expectRevision", "fail with 409 unless the store is at this revision", int)];
const admin = ["resources"];

export const openApiDocument: OpenApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "weft control plane admin API",
    version: "0.1.0",
    description: "Resources in the config store, the service registry, the live mesh (connected proxies, acked versions, NACKs) and the CA. Every route except /healthz, /ui, /v1/ca/bundle and /v1/ca/svid needs `Authorization: Bearer <admin token>`; /v1/ca/svid takes a one-time join token instead. Errors are JSON `{error, diagnostics?}`.",
  },
  security: [{ adminToken: [] }],
  paths: {
    "/healthz": { get: { summary: "Liveness", operationId: "healthz", tags: ["meta"], security: [], responses: { "200": json(obj({ ok: { type: "boolean" } }), "alive") } } },
    "/openapi.json": { get: { summary: "This document", operationId: "openapi", tags: ["meta"], responses: { "200": json({ type: "object" }, "the OpenAPI document"), "401": err("Unauthorized") } } },
    "/ui": { get: { summary: "The web page (no data; it calls the API with the token from its URL fragment)", operationId: "ui", tags: ["meta"], security: [], responses: { "200": { description: "HTML", content: { "text/html": { schema: str } } } } } },
    "/ui/app.js": { get: { summary: "The web page's script", operationId: "uiScript", tags: ["meta"], security: [], responses: { "200": { description: "JavaScript", content: { "text/javascript": { schema: str } } } } } },
    "/v1/resources": {
      get: { summary: "List resources", operationId: "listResources", tags: admin, parameters: [query("kind", "only this kind"), query("namespace", "only this namespace"), query("group", "only this API group")], responses: { "200": json(ref("ResourceList"), "resources"), "401": err("Unauthorized") } },
      post: { summary: "Apply resources (all or none); ?dryRun=true returns the diff", operationId: "applyResources", tags: admin, parameters: [...writeQuery, query("file", "a name for the body in diagnostics")], requestBody: resourceBody, responses: { "200": json(ref("ApplyResult"), "applied (or, dry run, what would change)"), "400": err("Invalid"), "401": err("Unauthorized"), "409": err("Conflict"), "413": err("TooLarge"), "415": err("UnsupportedType") } },
    },
    "/v1/resources/validate": {
      post: { summary: "Validate resources without writing", operationId: "validateResources", tags: admin, parameters: [query("file", "a name for the body in diagnostics")], requestBody: resourceBody, responses: { "200": json(ref("ValidateResult"), "validation result (valid or not)"), "400": err("Invalid"), "401": err("Unauthorized"), "413": err("TooLarge"), "415": err("UnsupportedType") } },
    },
    "/v1/resources/{kind}": { get: { summary: "List resources of a kind", operationId: "listResourcesOfKind", tags: admin, parameters: [pathParam("kind", "resource kind"), query("group", "only this API group")], responses: { "200": json(ref("ResourceList"), "resources"), "401": err("Unauthorized") } } },
    "/v1/resources/{kind}/{namespace}": { get: { summary: "List resources of a kind in a namespace", operationId: "listResourcesInNamespace", tags: admin, parameters: [pathParam("kind", "resource kind"), pathParam("namespace", "namespace"), query("group", "only this API group")], responses: { "200": json(ref("ResourceList"), "resources"), "401": err("Unauthorized") } } },
    "/v1/resources/{kind}/{namespace}/{name}": {
      get: { summary: "Get one resource", operationId: "getResource", tags: admin, parameters: objectPath, responses: { "200": json(ref("StoredResource"), "the resource"), "401": err("Unauthorized"), "404": err("NotFound"), "409": err("Conflict") } },
      delete: { summary: "Delete one resource", operationId: "deleteResource", tags: admin, parameters: [...objectPath, ...writeQuery], responses: { "200": json(ref("ApplyResult"), "deleted (or, dry run, what would be)"), "401": err("Unauthorized"), "404": err("NotFound"), "409": err("Conflict") } },
    },
    "/v1/resources/{kind}/{namespace}/{name}/history": { get: { summary: "Past versions of one resource", operationId: "resourceHistory", tags: admin, parameters: objectPath, responses: { "200": json(obj({ key: str, entries: arr(ref("HistoryEntry")) }, ["key", "entries"]), "history, oldest first"), "401": err("Unauthorized"), "404": err("NotFound") } } },
    "/v1/registry/services": { get: { summary: "Services with endpoint health counts", operationId: "listServices", tags: ["registry"], responses: { "200": json(obj({ revision: int, services: arr(ref("Service")) }, ["revision", "services"]), "services"), "401": err("Unauthorized") } } },
    "/v1/registry/endpoints": { get: { summary: "Endpoints and their health", operationId: "listEndpoints", tags: ["registry"], parameters: [query("service", "only this service (namespace/name)")], responses: { "200": json(obj({ revision: int, endpoints: arr(ref("ServiceEndpoints")) }, ["revision", "endpoints"]), "endpoints"), "401": err("Unauthorized"), "404": err("NotFound") } } },
    "/v1/registry/workloads": { get: { summary: "Workloads", operationId: "listWorkloads", tags: ["registry"], responses: { "200": json(obj({ revision: int, workloads: arr({ type: "object" }) }, ["revision", "workloads"]), "workloads"), "401": err("Unauthorized") } } },
    "/v1/registry/sources": { get: { summary: "Discovery sources, their errors, and conflicts between them", operationId: "registrySources", tags: ["registry"], responses: { "200": json(ref("RegistryStatus"), "sources"), "401": err("Unauthorized") } } },
    "/v1/mesh/nodes": { get: { summary: "Connected proxies: acked versions, last NACK, certificate expiry", operationId: "listNodes", tags: ["mesh"], responses: { "200": json(obj({ nodes: arr(ref("NodeStatus")), nacking: int }, ["nodes", "nacking"]), "nodes"), "401": err("Unauthorized") } } },
    "/v1/mesh/nodes/{id}": { get: { summary: "One connected proxy", operationId: "getNode", tags: ["mesh"], parameters: [pathParam("id", "xDS node id")], responses: { "200": json(ref("NodeStatus"), "the node"), "401": err("Unauthorized"), "404": err("NotFound") } } },
    "/v1/mesh/graph": { get: { summary: "Services, proxies and policy edges for drawing", operationId: "meshGraph", tags: ["mesh"], responses: { "200": json(ref("MeshGraph"), "graph"), "401": err("Unauthorized") } } },
    "/v1/ca/bundle": { get: { summary: "Trust bundle (public)", operationId: "trustBundle", tags: ["ca"], security: [], parameters: [query("format", "pem for concatenated PEM", { type: "string", enum: ["json", "pem"] })], responses: { "200": { description: "trusted roots", content: { "application/json": { schema: obj({ trustDomain: str, roots: arr(str) }, ["trustDomain", "roots"]) }, "application/x-pem-file": { schema: str } } } } } },
    "/v1/ca/join-tokens": { post: { summary: "Mint a one-time join token bound to a SPIFFE ID (admin)", operationId: "mintJoinToken", tags: ["ca"], requestBody: { required: true, content: { "application/json": { schema: obj({ spiffeId: str, ttlSeconds: { type: "integer", minimum: 1 } }, ["spiffeId"]) } } }, responses: { "201": json(obj({ token: str, spiffeId: str, expiresAt: int }, ["token", "spiffeId", "expiresAt"]), "the token (shown once)"), "400": err("Invalid"), "401": err("Unauthorized"), "415": err("UnsupportedType") } } },
    "/v1/ca/svid": { post: { summary: "Issue an SVID for a CSR; the identity comes from the join token", operationId: "issueSvid", tags: ["ca"], security: [{ joinToken: [] }], requestBody: { required: true, content: { "application/json": { schema: obj({ csr: { type: "string", description: "PEM PKCS#10, ECDSA P-256" }, ttlSeconds: { type: "integer", minimum: 1 } }, ["csr"]) } } }, responses: { "200": json(ref("Svid"), "the SVID"), "400": err("Invalid"), "401": err("Unauthorized"), "403": err("Forbidden"), "415": err("UnsupportedType") } } },
  },
  components: {
    securitySchemes: {
      adminToken: { type: "http", scheme: "bearer", description: "the admin token (--admin-token, WEFT_ADMIN_TOKEN, or printed at start)" },
      joinToken: { type: "http", scheme: "bearer", description: "a one-time join token from POST /v1/ca/join-tokens" },
    },
    responses: {
      Invalid: json(ref("Error"), "invalid input; diagnostics name file:line, object and field"),
      Unauthorized: json(ref("Error"), "missing or wrong credentials"),
      Forbidden: json(ref("Error"), "the credential does not grant what was asked"),
      NotFound: json(ref("Error"), "no such object"),
      Conflict: json(ref("Error"), "revision conflict or ambiguous kind"),
      TooLarge: json(ref("Error"), "the body is larger than the limit"),
      UnsupportedType: json(ref("Error"), "wrong content type"),
    },
    schemas: {
      Diagnostic: obj({ severity: { type: "string", enum: ["error", "warning"] }, message: str, object: str, path: str, file: str, line: int, column: int }, ["severity", "message"]),
      Error: obj({ error: str, diagnostics: arr(ref("Diagnostic")) }, ["error"]),
      StoredResource: obj({ group: str, kind: str, namespace: str, name: str, revision: int, createRevision: int, object: { type: "object" } }, ["group", "kind", "namespace", "name", "revision", "createRevision", "object"]),
      ResourceList: obj({ revision: int, items: arr(ref("StoredResource")) }, ["revision", "items"]),
      Change: obj({ key: str, action: { type: "string", enum: ["create", "update", "unchanged", "delete"] }, changedPaths: arr(str), fields: arr(obj({ path: str, before: {}, after: {} })) }, ["key", "action"]),
      ApplyResult: obj({ revision: int, dryRun: { type: "boolean" }, changes: arr(ref("Change")), diagnostics: arr(ref("Diagnostic")) }, ["revision", "dryRun", "changes"]),
      ValidateResult: obj({ valid: { type: "boolean" }, objects: int, errors: int, warnings: int, diagnostics: arr(ref("Diagnostic")), changes: arr(ref("Change")) }, ["valid", "objects", "errors", "warnings", "diagnostics"]),
      HistoryEntry: obj({ revision: int, type: { type: "string", enum: ["PUT", "DELETE"] }, object: { type: ["object", "null"] }, actor: str, time: int }, ["revision", "type", "object", "time"]),
      Service: obj({ id: str, name: str, namespace: str, hosts: arr(str), ports: arr({ type: "object" }), selector: stringMap, identities: arr(str), endpoints: { type: "object", additionalProperties: int } }, ["id", "name", "namespace", "hosts", "ports"]),
      Endpoint: obj({ address: str, port: int, weight: int, health: { type: "string", enum: ["healthy", "unhealthy", "draining", "unknown"] }, identity: str, labels: stringMap }, ["address", "port", "health"]),
      ServiceEndpoints: obj({ service: str, port: int, endpoints: arr(ref("Endpoint")) }, ["service", "port", "endpoints"]),
      RegistryStatus: obj({ revision: int, sources: arr(obj({ name: str, services: int, endpoints: int, updatedAt: { type: ["integer", "null"] }, error: str })), conflicts: arr(obj({ service: str, kept: str, ignored: str })), details: { type: "object" } }, ["revision", "sources", "conflicts"]),
      NodeStatus: obj({ id: str, connectedSince: int, acked: stringMap, lastNack: obj({ type: str, message: str, at: int }, ["type", "message", "at"]), certificateExpiry: int, certificateExpiresInMs: int, identity: str, service: str }, ["id", "connectedSince", "acked"]),
      MeshGraph: obj({ nodes: arr(obj({ id: str, kind: { type: "string", enum: ["service", "proxy", "any"] }, label: str, health: {} }, ["id", "kind", "label"])), edges: arr(obj({ from: str, to: str, kind: { type: "string", enum: ["serves", "allow", "deny", "audit", "custom"] }, policy: str }, ["from", "to", "kind"])) }, ["nodes", "edges"]),
      Svid: obj({ spiffeId: str, certificate: str, chain: arr(str), trustBundle: arr(str), notBefore: int, notAfter: int, serial: str }, ["spiffeId", "certificate", "chain", "trustBundle", "notBefore", "notAfter", "serial"]),
    },
  },
};
