/**
 * @module core/policy/istio
 * Istio `AuthorizationPolicy` → IR `AuthzPolicy`, with the checks Istio's validation makes (empty
 * `from`/`to`, empty values, CIDRs, ports, path templates, `when` keys, provider vs action) reported as
 * diagnostics naming the object and field. Unknown `when` keys are warnings: Istio skips such a rule
 * at runtime (so a DENY silently gets narrower), which weft reproduces for parity and says loudly.
 */
import type { AuthzPolicy, AuthzRule, Condition, FieldMatch, OperationMatch, SourceMatch } from "../ir/model.ts";
import { type Diagnostic, formatPath, zodIssuesToDiagnostics } from "../schema/index.ts";
import { parseCidr } from "./cidr.ts";
import { authorizationPolicySchema, type IstioRule } from "./istio-schema.ts";

export interface ConvertContext {
  file?: string;
  /** Resolves a field path to a line (from the YAML loader). */
  locate?: (path: ReadonlyArray<PropertyKey>) => { line?: number; column?: number };
  /** Namespace for objects without `metadata.namespace` (default `default`). */
  defaultNamespace?: string;
}

export interface ConvertResult<T> {
  value: T | null;
  diagnostics: Diagnostic[];
}

/** The `when` keys Istio understands; `[...]` keys are matched by prefix. */
const CONDITION_KEYS = new Set([
  "source.ip", "remote.ip", "source.namespace", "source.principal", "source.serviceAccount",
  "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
  "destination.ip", "destination.port", "connection.sni",
]);
const CONDITION_MAP_PREFIXES = ["request.headers[", "request.auth.claims[", "experimental.envoy.filters."];

/** Why Istio rejects some keys that look plausible. */
const CONDITION_REPLACED: Record<string, string> = {
  "destination.namespace": "replaced by the policy's metadata.namespace",
  "destination.name": "deprecated: only supported in v1alpha1",
  "destination.user": "deprecated: only supported in v1alpha1",
};

export function conditionKeyProblem(key: string): string | null {
  if (CONDITION_KEYS.has(key)) return null;
  if (CONDITION_REPLACED[key]) return `attribute ${key} is ${CONDITION_REPLACED[key]}`;
  if (key.startsWith("destination.labels[")) return `attribute ${key} is replaced by the workload selector`;
  for (const p of CONDITION_MAP_PREFIXES) {
    if (key.startsWith(p)) {
      if (p.endsWith("[")) {
        const open = key.indexOf("[");
        if (!key.endsWith("]") || open < 0 || open >= key.length - 2) return `bad key ${key}: should have format a[b]`;
      }
      return null;
    }
  }
  return `unknown attribute ${key}`;
}

function isPort(v: string): boolean {
  return /^\d{1,5}$/.test(v) && Number(v) <= 65535;
}

const VALID_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/** Istio's CheckValidPathTemplate: `{*}`/`{**}` whole segments, `{**}` last, literals are pchars. */
export function pathTemplateProblem(path: string): string | null {
  const hasTemplate = path.includes("{*}") || path.includes("{**}");
  let sawAny = false;
  for (const glob of path.replace(/^\/+|\/+$/g, "").split("/")) {
    if ((glob === "{*}" || glob === "{**}") && !sawAny) {
      if (glob === "{**}") sawAny = true;
      continue;
    }
    if ((glob === "{*}" || glob === "{**}") && sawAny) return `{**} is not the last operator in ${path}`;
    if (/[{}]/.test(glob)) return `${path} contains '{' or '}' beyond a supported path template`;
    if (hasTemplate && !VALID_LITERAL.test(glob)) return `${path} has segment "${glob}" with an invalid literal`;
  }
  return null;
}

/**
 * Converts one parsed object. `value` is null when there are errors; warnings leave it usable.
 * @example
 * const { value, diagnostics } = authorizationPolicyFromIstio(yamlDoc.value, { file: "p.yaml", locate: yamlDoc.locate });
 */
export function authorizationPolicyFromIstio(obj: unknown, ctx: ConvertContext = {}): ConvertResult<AuthzPolicy> {
  const meta = (obj as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const ns = typeof meta?.namespace === "string" ? meta.namespace : (ctx.defaultNamespace ?? "default");
  const objectName = `AuthorizationPolicy/${ns}/${typeof meta?.name === "string" ? meta.name : "<unnamed>"}`;
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic["severity"], path: ReadonlyArray<PropertyKey>, message: string) => {
    diagnostics.push({ severity, object: objectName, path: formatPath(path) || undefined, file: ctx.file, ...ctx.locate?.(path), message });
  };

  const parsed = authorizationPolicySchema.safeParse(obj);
  if (!parsed.success) {
    for (const d of zodIssuesToDiagnostics(parsed.error.issues, { object: objectName, file: ctx.file })) {
      const path = d.path ? d.path.split(/\.|\[|\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
      diagnostics.push({ ...d, ...ctx.locate?.(path) });
    }
    return { value: null, diagnostics };
  }
  const p = parsed.data;
  const spec = p.spec ?? {};
  const action = spec.action ?? "ALLOW";

  if ((action === "CUSTOM" || action === "DENY") && spec.rules === undefined) {
    report("error", ["spec", "rules"], `${action} action without \`rules\` is meaningless as it will never be triggered; add an empty rule \`{}\` if you want it triggered for every request`);
  } else if (action === "CUSTOM" && !spec.provider?.name) report("error", ["spec", "provider"], "a CUSTOM policy must name a provider");
  if (action !== "CUSTOM" && spec.provider) report("error", ["spec", "provider"], `provider must not be set for action ${action}`);
  const targetRefs = spec.targetRefs ?? (spec.targetRef ? [spec.targetRef] : undefined);
  if (spec.selector && targetRefs) report("error", ["spec", "selector"], "selector and targetRef(s) are mutually exclusive");
  if (spec.targetRef && spec.targetRefs) report("error", ["spec", "targetRef"], "targetRef and targetRefs are mutually exclusive");

  const rules: AuthzRule[] | null = spec.rules && spec.rules.length > 0 ? [] : null;
  (spec.rules ?? []).forEach((rule, i) => {
    const at = ["spec", "rules", i];
    if (rule === null) {
      report("error", at, "rule must not be null");
      return;
    }
    if (action === "CUSTOM") checkCustomRule(rule, at, report);
    if (action === "DENY") warnHttpOnlyDeny(rule, at, report);
    const converted = convertRule(rule, at, report);
    if (converted) rules!.push(converted);
  });

  if (diagnostics.some((d) => d.severity === "error")) return { value: null, diagnostics };
  const dryRun = p.metadata.annotations?.["istio.io/dry-run"] === "true";
  return {
    value: {
      id: `${ns}/${p.metadata.name}`,
      name: p.metadata.name,
      namespace: ns,
      action,
      provider: spec.provider?.name,
      selector: { namespace: ns, matchLabels: spec.selector?.matchLabels, targetRefs },
      rules,
      dryRun: dryRun || undefined,
      origin: { system: "istio", object: objectName, file: ctx.file, line: ctx.locate?.([]).line },
    },
    diagnostics,
  };
}

/** Istio supports only operation, IP and non-identity conditions in CUSTOM rules (validation.go). */
function checkCustomRule(rule: IstioRule, at: ReadonlyArray<PropertyKey>, report: Report): void {
  const unsupported = ["principals", "notPrincipals", "namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts", "requestPrincipals", "notRequestPrincipals"] as const;
  (rule.from ?? []).forEach((f, i) => {
    for (const k of unsupported) {
      if (f.source?.[k]?.length) report("error", [...at, "from", i, "source", k], `From.${k[0]!.toUpperCase()}${k.slice(1)} is currently not supported with CUSTOM action`);
    }
  });
  (rule.when ?? []).forEach((c, i) => {
    if (["source.namespace", "source.serviceAccount", "source.principal"].includes(c.key) || c.key.startsWith("request.auth.")) {
      report("error", [...at, "when", i, "key"], `${c.key} is currently not supported with CUSTOM action`);
    }
  });
}

/** Istio's warning: a DENY rule with only HTTP attributes denies all TCP traffic in its scope. */
function warnHttpOnlyDeny(rule: IstioRule, at: ReadonlyArray<PropertyKey>, report: Report): void {
  const from = rule.from ?? [];
  const to = rule.to ?? [];
  const tcpInFrom = from.some((f) => {
    const s = f.source ?? {};
    return !!(s.principals || s.notPrincipals || s.ipBlocks || s.notIpBlocks || s.namespaces || s.notNamespaces || s.remoteIpBlocks || s.notRemoteIpBlocks || s.serviceAccounts || s.notServiceAccounts);
  });
  const tcpInTo = to.some((t) => !!(t.operation?.ports || t.operation?.notPorts));
  if ((from.length > 0 && to.length === 0 && !tcpInFrom) || (to.length > 0 && !tcpInTo)) {
    report("warning", at, "this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports in its scope; name the port explicitly");
  }
}

type Report = (severity: Diagnostic["severity"], path: ReadonlyArray<PropertyKey>, message: string) => void;

function field(values: string[] | undefined, notValues: string[] | undefined): FieldMatch | undefined {
  if (!values?.length && !notValues?.length) return undefined;
  const f: FieldMatch = {};
  if (values?.length) f.values = values;
  if (notValues?.length) f.notValues = notValues;
  return f;
}

function checkValues(values: string[] | undefined, at: ReadonlyArray<PropertyKey>, report: Report, check?: (v: string) => string | null): void {
  values?.forEach((v, j) => {
    if (v === "") report("error", [...at, j], "empty value not allowed");
    else if (check) {
      const problem = check(v);
      if (problem) report("error", [...at, j], problem);
    }
  });
}

const cidrCheck = (v: string) => (parseCidr(v) ? null : v.includes("/") ? `bad CIDR range ${v}` : `bad IP address ${v}`);
const portCheck = (v: string) => (isPort(v) ? null : `bad port ${v}: must be a number from 0 to 65535`);
const serviceAccountCheck = (v: string) => {
  if (v.includes("*")) return "wildcard not allowed in serviceAccounts";
  const parts = v.split("/");
  if (parts.length > 2 || parts.some((x) => x === "")) return `expected "serviceAccount" or "namespace/serviceAccount", found "${v}"`;
  return null;
};

function convertRule(rule: IstioRule, at: ReadonlyArray<PropertyKey>, report: Report): AuthzRule | null {
  const out: AuthzRule = { from: [], to: [], when: [] };
  if (rule.from && rule.from.length === 0) report("error", [...at, "from"], "`from` must not be empty");
  if (rule.to && rule.to.length === 0) report("error", [...at, "to"], "`to` must not be empty");
  (rule.from ?? []).forEach((f, i) => {
    const here = [...at, "from", i, "source"];
    const s = f.source;
    if (!s || Object.values(s).every((v) => !v?.length)) {
      report("error", here, "`from.source` must not be empty");
      return;
    }
    for (const [k, v] of Object.entries(s)) checkValues(v, [...here, k], report);
    for (const k of ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"] as const) checkValues(s[k], [...here, k], report, cidrCheck);
    for (const k of ["serviceAccounts", "notServiceAccounts"] as const) checkValues(s[k], [...here, k], report, serviceAccountCheck);
    if ((s.serviceAccounts?.length || s.notServiceAccounts?.length) && (s.principals?.length || s.notPrincipals?.length || s.namespaces?.length || s.notNamespaces?.length)) {
      report("error", here, "cannot set serviceAccounts with namespaces or principals");
    }
    const m: SourceMatch = {};
    const set = <K extends keyof SourceMatch>(k: K, v: FieldMatch | undefined) => v && (m[k] = v);
    set("principals", field(s.principals, s.notPrincipals));
    set("requestPrincipals", field(s.requestPrincipals, s.notRequestPrincipals));
    set("namespaces", field(s.namespaces, s.notNamespaces));
    set("serviceAccounts", field(s.serviceAccounts, s.notServiceAccounts));
    set("ipBlocks", field(s.ipBlocks, s.notIpBlocks));
    set("remoteIpBlocks", field(s.remoteIpBlocks, s.notRemoteIpBlocks));
    out.from.push(m);
  });
  (rule.to ?? []).forEach((t, i) => {
    const here = [...at, "to", i, "operation"];
    const o = t.operation;
    if (!o || Object.values(o).every((v) => !v?.length)) {
      report("error", here, "`to.operation` must not be empty");
      return;
    }
    for (const [k, v] of Object.entries(o)) checkValues(v, [...here, k], report);
    for (const k of ["ports", "notPorts"] as const) checkValues(o[k], [...here, k], report, portCheck);
    for (const k of ["paths", "notPaths"] as const) checkValues(o[k], [...here, k], report, pathTemplateProblem);
    const m: OperationMatch = {};
    const set = <K extends keyof OperationMatch>(k: K, v: FieldMatch | undefined) => v && (m[k] = v);
    set("hosts", field(o.hosts, o.notHosts));
    set("ports", field(o.ports, o.notPorts));
    set("methods", field(o.methods, o.notMethods));
    set("paths", field(o.paths, o.notPaths));
    out.to.push(m);
  });
  (rule.when ?? []).forEach((c, i) => {
    const here = [...at, "when", i];
    if (c.key === "") {
      report("error", [...here, "key"], "`key` must not be empty");
      return;
    }
    if (!c.values?.length && !c.notValues?.length) {
      report("error", here, `at least one of values or notValues must be set for key ${c.key}`);
      return;
    }
    const problem = conditionKeyProblem(c.key);
    if (problem) {
      report("warning", [...here, "key"], `${problem}; Istio skips this whole rule at runtime (a DENY or AUDIT rule becomes narrower, an ALLOW rule allows less), and so does weft`);
    }
    const check = ["source.ip", "remote.ip", "destination.ip"].includes(c.key) ? cidrCheck
      : c.key === "destination.port" ? portCheck
      : c.key === "source.serviceAccount" ? serviceAccountCheck : undefined;
    checkValues(c.values, [...here, "values"], report, check);
    checkValues(c.notValues, [...here, "notValues"], report, check);
    const cond: Condition = { key: c.key };
    if (c.values?.length) cond.values = c.values;
    if (c.notValues?.length) cond.notValues = c.notValues;
    out.when.push(cond);
  });
  return out;
}
