/**
 * @module control/admin/test-fixtures
 * Builds a complete admin app over real components (config store on an in-memory log, registry, CA,
 * join tokens, in-memory mesh status) for the admin API's tests, plus sample resources.
 */
import { allKinds } from "../../core/resources/all-kinds.ts";
import { validateResource } from "../../core/resources/kind.ts";
import { createCertificateAuthority } from "../ca/authority.ts";
import { createJoinTokenStore } from "../ca/join-tokens.ts";
import { createRegistry } from "../registry/registry.ts";
import { createConfigStore } from "../store/store.ts";
import type { DurableLog, LogRecord } from "../store/types.ts";
import { createAdminApp, type AdminAppOptions } from "./app.ts";
import { createInMemoryMeshStatus } from "./mesh-status.ts";

export const TEST_TOKEN = "test-admin-token-0123456789";
export const TRUST_DOMAIN = "cluster.local";

export function memoryLog(): DurableLog & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return {
    records,
    readAll: async () => [...records],
    append: async (r) => void records.push(r),
    compact: async (s) => void records.splice(0, records.length, s),
    close: async () => undefined,
  };
}

export async function createTestControl(overrides: Partial<AdminAppOptions> = {}) {
  const log = memoryLog();
  const store = await createConfigStore({ log, validate: (o) => validateResource(o, allKinds) });
  const registry = createRegistry();
  const ca = await createCertificateAuthority({ trustDomain: TRUST_DOMAIN });
  const joinTokens = createJoinTokenStore();
  const mesh = createInMemoryMeshStatus();
  const internalErrors: unknown[] = [];
  const app = createAdminApp({ adminToken: TEST_TOKEN, store, registry, ca, joinTokens, mesh, onInternalError: (e) => internalErrors.push(e), ...overrides });
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  return { app, store, log, registry, ca, joinTokens, mesh, auth, internalErrors };
}

export const POLICY_YAML = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-frontend
  namespace: default
spec:
  selector:
    matchLabels:
      app: backend
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/frontend"]
    to:
    - operation:
        methods: ["GET"]
`;

export const SERVICE_ENTRY_YAML = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: backend
  namespace: default
spec:
  hosts: ["backend.default.svc.cluster.local"]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 8080, name: http, protocol: HTTP}
  endpoints:
  - {address: 10.0.0.2, labels: {app: backend}, serviceAccount: backend}
`;
