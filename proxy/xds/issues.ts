/**
 * @module proxy/xds/issues
 * What the xDS translator reports about the resources it reads. An `error` makes the update a NACK (the
 * last good config keeps serving) and names the resource and the field path; an `ignored` entry is a
 * field or filter weft does not honour but that cannot widen access, and goes to the status report the
 * proxy admin shows (`/xds_status`). Both are plain data so any host can show them.
 */

export interface XdsIssue {
  /** Short type name: `Listener`, `RouteConfiguration`, `Cluster`, `ClusterLoadAssignment`, `Secret`. */
  kind: string;
  /** The resource's name. */
  resource: string;
  /** Field path inside the resource, Envoy's proto field names (`filter_chains[0].filters[1]`). */
  path: string;
  message: string;
}

/** Collects issues for one resource; paths are given relative to it. */
export interface IssueSink {
  error(path: string, message: string): void;
  ignored(path: string, message: string): void;
  readonly errors: XdsIssue[];
  readonly ignoredIssues: XdsIssue[];
}

export function createIssueSink(kind: string, resource: string, errors: XdsIssue[] = [], ignoredIssues: XdsIssue[] = []): IssueSink {
  return {
    error: (path, message) => void errors.push({ kind, resource, path, message }),
    ignored: (path, message) => void ignoredIssues.push({ kind, resource, path, message }),
    errors,
    ignoredIssues,
  };
}

/** One line per issue: `Listener/inbound|8080 filter_chains[0].filters[0]: message`. */
export function formatIssue(i: XdsIssue): string {
  return `${i.kind}/${i.resource}${i.path ? ` ${i.path}` : ""}: ${i.message}`;
}

/** `a.b` + `c` → `a.b.c`; `a` + `[2]` → `a[2]`. */
export function joinPath(base: string, next: string): string {
  if (!base) return next;
  if (!next) return base;
  return next.startsWith("[") ? `${base}${next}` : `${base}.${next}`;
}
