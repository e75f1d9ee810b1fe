/**
 * @module plugins/envoy-rbac/engine
 * Envoy's RBAC engine (`envoy.config.rbac.v3.RBAC`) compiled into a decision function: permission and
 * principal trees become predicates over `RbacInput`, policies are tried in lexicographic order of their
 * names, and the action (ALLOW / DENY / LOG) turns "some policy matched" into allowed or denied, as
 * Envoy's `RoleBasedAccessControlEngineImpl` does. Predicates are three-valued: a permission or principal
 * kind the evaluator does not implement (CEL conditions, extension matchers, unknown filter state, bad
 * regexes) compiles to "unknown", is listed in `problems`, and a decision that depends on it fails closed.
 */
import type { Permission, Policy, Principal, RBAC as RbacRules } from "../../gen/proto/envoy/config/rbac/v3/rbac_pb.ts";
import { RBAC_Action } from "../../gen/proto/envoy/config/rbac/v3/rbac_pb.ts";
import { UriTemplateMatchConfigSchema } from "./protos.ts";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { createRegistry, isMessage } from "@bufbuild/protobuf";
import {
  Unsupported, compileCidr, compileHeader, compileMetadata, compilePath, compileString, compileUriTemplate,
} from "./matchers.ts";
import type { RbacInput } from "./request.ts";

/** 0 = no match, 1 = match, 2 = unknown (an unsupported construct decided it). */
export type Tri = 0 | 1 | 2;
type Pred = (r: RbacInput) => Tri;

const TRUE: Pred = () => 1;
const UNKNOWN: Pred = () => 2;
const tri = (b: boolean): Tri => (b ? 1 : 0);

function or(ps: Pred[]): Pred {
  if (ps.length === 1) return ps[0]!;
  return (r) => {
    let out: Tri = 0;
    for (const p of ps) {
      const v = p(r);
      if (v === 1) return 1;
      if (v === 2) out = 2;
    }
    return out;
  };
}

function and(ps: Pred[]): Pred {
  if (ps.length === 1) return ps[0]!;
  return (r) => {
    let out: Tri = 1;
    for (const p of ps) {
      const v = p(r);
      if (v === 0) return 0;
      if (v === 2) out = 2;
    }
    return out;
  };
}

const not = (p: Pred): Pred => (r) => {
  const v = p(r);
  return v === 2 ? 2 : v === 1 ? 0 : 1;
};

const uriTemplateRegistry = createRegistry(UriTemplateMatchConfigSchema);

class Compiler {
  readonly problems: string[] = [];

  /** Runs `build`; an `Unsupported` becomes a problem and an unknown predicate. */
  private guard(where: string, build: () => Pred): Pred {
    try {
      return build();
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      this.problems.push(err.message.startsWith(where) ? err.message : `${where}: ${err.message}`);
      return UNKNOWN;
    }
  }

  permission(p: Permission, where: string): Pred {
    const r = p.rule;
    return this.guard(where, () => {
      switch (r.case) {
        case "any": return TRUE;
        case "andRules": return and(r.value.rules.map((x, i) => this.permission(x, `${where}.andRules[${i}]`)));
        case "orRules": return or(r.value.rules.map((x, i) => this.permission(x, `${where}.orRules[${i}]`)));
        case "notRule": return not(this.permission(r.value, `${where}.notRule`));
        case "header": {
          const t = compileHeader(r.value, `${where}.header`);
          return (q) => tri(t(q.header));
        }
        case "urlPath": {
          const t = compilePath(r.value, `${where}.urlPath`);
          return (q) => tri(t(q.path));
        }
        case "uriTemplate": {
          const any = r.value.typedConfig;
          const cfg = any ? anyUnpack(any, uriTemplateRegistry) : undefined;
          if (!cfg || !isMessage(cfg, UriTemplateMatchConfigSchema)) throw new Unsupported(`${where}.uriTemplate: only UriTemplateMatchConfig is supported (got ${any?.typeUrl ?? "nothing"})`);
          const t = compileUriTemplate(cfg.pathTemplate, `${where}.uriTemplate`);
          return (q) => tri(t(q.path));
        }
        case "destinationIp": {
          const t = compileCidr(r.value, `${where}.destinationIp`);
          return (q) => tri(t(q.destinationIp));
        }
        case "destinationPort": {
          const port = r.value;
          return (q) => tri(q.destinationPort === port);
        }
        case "destinationPortRange": {
          const { start, end } = r.value;
          return (q) => tri(q.destinationPort !== undefined && q.destinationPort >= start && q.destinationPort < end);
        }
        case "requestedServerName": {
          const t = compileString(r.value, `${where}.requestedServerName`);
          return (q) => tri(t(q.sni));
        }
        case "metadata": {
          const t = compileMetadata(r.value, `${where}.metadata`);
          return (q) => tri(t(q.metadata));
        }
        default:
          throw new Unsupported(`${where}: permission kind ${r.case ?? "(none)"} is not supported`);
      }
    });
  }

  principal(p: Principal, where: string): Pred {
    const id = p.identifier;
    return this.guard(where, () => {
      switch (id.case) {
        case "any": return TRUE;
        case "andIds": return and(id.value.ids.map((x, i) => this.principal(x, `${where}.andIds[${i}]`)));
        case "orIds": return or(id.value.ids.map((x, i) => this.principal(x, `${where}.orIds[${i}]`)));
        case "notId": return not(this.principal(id.value, `${where}.notId`));
        case "authenticated": {
          const m = id.value.principalName;
          if (m === undefined) return (q) => tri(q.principal !== undefined);
          const t = compileString(m, `${where}.authenticated.principalName`);
          // URI SANs first, then the subject; the request carries only the URI SAN (subject unknown = "").
          return (q) => tri(q.principal !== undefined && (t(q.principal) || t("")));
        }
        case "sourceIp":
        case "directRemoteIp": {
          const t = compileCidr(id.value, `${where}.${id.case}`);
          return (q) => tri(t(q.directRemoteIp));
        }
        case "remoteIp": {
          const t = compileCidr(id.value, `${where}.remoteIp`);
          return (q) => tri(t(q.remoteIp));
        }
        case "header": {
          const t = compileHeader(id.value, `${where}.header`);
          return (q) => tri(t(q.header));
        }
        case "urlPath": {
          const t = compilePath(id.value, `${where}.urlPath`);
          return (q) => tri(t(q.path));
        }
        case "metadata": {
          const t = compileMetadata(id.value, `${where}.metadata`);
          return (q) => tri(t(q.metadata));
        }
        case "filterState": {
          const fs = id.value;
          if (fs.key !== "io.istio.peer_principal") throw new Unsupported(`${where}.filterState: key ${fs.key} is not known to weft`);
          if (fs.matcher.case !== "stringMatch") throw new Unsupported(`${where}.filterState: matcher ${fs.matcher.case ?? "(none)"} is not supported`);
          const t = compileString(fs.matcher.value, `${where}.filterState.stringMatch`);
          return (q) => {
            const v = q.filterState[fs.key];
            return tri(v !== undefined && t(v));
          };
        }
        default:
          throw new Unsupported(`${where}: principal kind ${id.case ?? "(none)"} is not supported`);
      }
    });
  }

  policy(p: Policy, where: string): Pred {
    const perms = or(p.permissions.map((x, i) => this.permission(x, `${where}.permissions[${i}]`)));
    const princs = or(p.principals.map((x, i) => this.principal(x, `${where}.principals[${i}]`)));
    const parts: Pred[] = [p.permissions.length ? perms : () => 0, p.principals.length ? princs : () => 0];
    if (p.condition !== undefined || p.checkedCondition !== undefined) {
      this.problems.push(`${where}: CEL conditions are not supported`);
      parts.push(UNKNOWN);
    }
    return and(parts);
  }
}

export type RbacActionName = "ALLOW" | "DENY" | "LOG";

/** What one engine decided for one request. */
export interface EngineResult {
  allowed: boolean;
  /** Name of the first matching policy in lexicographic order, or null. */
  matchedPolicy: string | null;
  /** True when an unsupported construct could have changed the result (the result then fails closed). */
  uncertain: boolean;
}

export interface RbacEngine {
  readonly action: RbacActionName;
  readonly policyNames: readonly string[];
  /** Problems found while compiling (unsupported constructs); empty when every construct is understood. */
  readonly problems: readonly string[];
  evaluate(input: RbacInput): EngineResult;
}

const ACTION_NAME: Partial<Record<RBAC_Action, RbacActionName>> = { [RBAC_Action.ALLOW]: "ALLOW", [RBAC_Action.DENY]: "DENY", [RBAC_Action.LOG]: "LOG" };

/**
 * Compiles `envoy.config.rbac.v3.RBAC` into an engine.
 * @example
 * const engine = compileRbacRules(rbac.rules!, "rules");
 * engine.evaluate(toRbacInput(request)).allowed;
 */
export function compileRbacRules(rules: RbacRules, where = "rules"): RbacEngine {
  const c = new Compiler();
  let action = ACTION_NAME[rules.action];
  if (action === undefined) {
    c.problems.push(`${where}.action: unknown action ${rules.action}`);
    action = "DENY";
  }
  const names = Object.keys(rules.policies).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const compiled = names.map((n) => [n, c.policy(rules.policies[n]!, `${where}.policies[${n}]`)] as const);
  const act = action;
  return {
    action: act,
    policyNames: names,
    problems: c.problems,
    evaluate(input) {
      let uncertain = false;
      let matched: string | null = null;
      for (const [name, pred] of compiled) {
        const v = pred(input);
        if (v === 1) {
          matched = name;
          break;
        }
        if (v === 2) uncertain = true;
      }
      if (act === "LOG") return { allowed: true, matchedPolicy: matched, uncertain: false };
      if (matched !== null) return { allowed: act === "ALLOW", matchedPolicy: matched, uncertain: false };
      // No definite match: an unknown policy might have matched. Fail closed either way.
      if (uncertain) return { allowed: false, matchedPolicy: null, uncertain: true };
      return { allowed: act === "DENY", matchedPolicy: null, uncertain: false };
    },
  };
}
