/**
 * @module control/xds/snapshot
 * Immutable, versioned xDS snapshots: one node's complete configuration (listeners, routes, clusters,
 * load assignments, secrets). Each resource is serialized once and carries a content version (a hash
 * of its bytes), so delta streams can tell what changed; each type's version is an order-free digest
 * of its resources' names and versions, so a state-of-the-world stream only pushes the types that
 * changed. A snapshot can be derived from the one it replaces (`createSnapshot(input, label, previous)`):
 * unchanged resources keep their record (and a type with no change keeps its map), and the snapshot
 * records what changed (`changes`), so the consistency check and the streams work in proportion to the
 * change. The result equals a snapshot built from scratch. Nothing mutates a snapshot after it is made.
 *
 * Thread-safety and mutability contract: a `Snapshot` is frozen and may be shared by any number of
 * streams and nodes. A message given to `createSnapshot` must not be mutated afterwards (its serialized
 * form is remembered per object and reused when the same object appears in a later snapshot).
 */
import type { Message } from "@bufbuild/protobuf";
import { ALL_TYPE_URLS, encodeResource, resourceName, TYPE_SHORT_NAME, type ResourceTypeUrl } from "./resource-types.ts";

export interface SnapshotResource {
  readonly name: string;
  readonly message: Message;
  /** The serialized resource (the `value` of its `Any`). */
  readonly bytes: Uint8Array;
  /** Content version: a hash of `bytes`. */
  readonly version: string;
}

/** What differs from the snapshot a snapshot was derived from, for one type. */
export interface TypeChanges {
  /** Names added or whose content changed. */
  readonly changed: ReadonlySet<string>;
  /** Names the base had and this snapshot does not. */
  readonly removed: readonly string[];
}

export interface Snapshot {
  /** Unique per snapshot made in this process. */
  readonly id: number;
  /** The id of the snapshot this one was derived from (0 when built from scratch). */
  readonly baseId: number;
  /** A human label (e.g. the config store revision); not used for change detection. */
  readonly label: string;
  /** The type's version: a digest of its resources' names and versions (`"0"` for an empty type). */
  version(typeUrl: string): string;
  resources(typeUrl: string): ReadonlyMap<string, SnapshotResource>;
  /** What changed since snapshot `baseId`, per type; undefined when built from scratch. */
  changes(typeUrl: string): TypeChanges | undefined;
  /** Number of resources per type short name (LDS, RDS, CDS, EDS, SDS). */
  readonly counts: Readonly<Record<string, number>>;
}

export type SnapshotInput = Partial<Record<ResourceTypeUrl, readonly Message[]>>;

export class SnapshotError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`snapshot refused:\n  - ${problems.join("\n  - ")}`);
    this.name = "SnapshotError";
    this.problems = problems;
  }
}

const FNV_PRIME = 0x01000193;

/** Two 32-bit FNV-1a hashes with different offsets, as 16 hex digits. */
export function hashBytes(bytes: Uint8Array, seed = 0): string {
  let h1 = (0x811c9dc5 ^ seed) >>> 0;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, FNV_PRIME) >>> 0;
    h2 = Math.imul(h2 ^ b, FNV_PRIME) >>> 0;
  }
  return hex(h1, h2);
}

const hex = (a: number, b: number): string => a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");

/** A 64-bit (two-lane) hash of a resource's name and version: the term it adds to its type's digest. */
function entryHash(name: string, version: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  const s = `${name}\u0000${version}`;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME) >>> 0;
    h2 = Math.imul(h2 ^ (c >>> 8) ^ (c << 3), FNV_PRIME) >>> 0;
  }
  // Finalize (avalanche) so that the sum of terms does not cancel on near-identical inputs.
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) >>> 0;
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35) >>> 0;
  return [(h1 ^ (h1 >>> 15)) >>> 0, (h2 ^ (h2 >>> 16)) >>> 0];
}

const EMPTY: ReadonlyMap<string, SnapshotResource> = new Map();

/**
 * Serialized form per message object, so a message reused from the previous snapshot (translators
 * cache per IR object) is not serialized and hashed again. Messages in a snapshot are never mutated.
 */
const encoded = new WeakMap<Message, { bytes: Uint8Array; version: string }>();
/** The digest term of each resource record (records are immutable and reused across snapshots). */
const terms = new WeakMap<SnapshotResource, [number, number]>();

function encode(typeUrl: ResourceTypeUrl, message: Message): { bytes: Uint8Array; version: string } {
  let e = encoded.get(message);
  if (!e) {
    const bytes = encodeResource(typeUrl, message);
    e = { bytes, version: hashBytes(bytes) };
    encoded.set(message, e);
  }
  return e;
}

function record(name: string, message: Message, bytes: Uint8Array, version: string): SnapshotResource {
  const r = Object.freeze({ name, message, bytes, version });
  terms.set(r, entryHash(name, version));
  return r;
}

/** The type version: the count and the lane-wise sum of the resources' terms, so order does not matter. */
function typeVersion(map: ReadonlyMap<string, SnapshotResource>): string {
  if (map.size === 0) return "0";
  let a = map.size;
  let b = Math.imul(map.size, 0x9e3779b1) >>> 0;
  for (const r of map.values()) {
    const t = terms.get(r)!;
    a = (a + t[0]) >>> 0;
    b = (b + t[1]) >>> 0;
  }
  return hex(a, b);
}

let lastSnapshotId = 0;

/**
 * Makes an immutable snapshot. Duplicate names within a type are an error. With `previous` (the
 * snapshot this one replaces), unchanged resources keep their records, a type without changes keeps
 * its map and version, and `changes(type)` tells what differs; the result is otherwise the same as
 * without `previous`.
 * @example
 * const s1 = createSnapshot({ [TypeUrl.cluster]: [cluster], [TypeUrl.endpoint]: [cla] }, "rev-12");
 * const s2 = createSnapshot({ [TypeUrl.cluster]: [cluster], [TypeUrl.endpoint]: [cla2] }, "rev-13", s1);
 * s2.changes(TypeUrl.endpoint); // { changed: Set { cla2.clusterName }, removed: [] }
 */
export function createSnapshot(input: SnapshotInput, label = "", previous?: Snapshot): Snapshot {
  const byType = new Map<string, ReadonlyMap<string, SnapshotResource>>();
  const versions = new Map<string, string>();
  const changes = new Map<string, TypeChanges>();
  const counts: Record<string, number> = {};
  const problems: string[] = [];
  for (const typeUrl of ALL_TYPE_URLS) {
    const list = input[typeUrl] ?? [];
    const before = previous?.resources(typeUrl);
    const map = new Map<string, SnapshotResource>();
    const changed = new Set<string>();
    for (const message of list) {
      const name = resourceName(typeUrl, message);
      if (!name) problems.push(`${TYPE_SHORT_NAME[typeUrl]}: a resource has no name`);
      else if (map.has(name)) problems.push(`${TYPE_SHORT_NAME[typeUrl]}: duplicate resource name "${name}"`);
      const old = before?.get(name);
      if (old && old.message === message) {
        map.set(name, old);
        continue;
      }
      const { bytes, version } = encode(typeUrl, message);
      if (old && old.version === version) map.set(name, old); // same content in a new object
      else {
        map.set(name, record(name, message, bytes, version));
        changed.add(name);
      }
    }
    let removed: string[] = [];
    if (before && map.size - changed.size !== before.size) removed = [...before.keys()].filter((n) => !map.has(n));
    if (previous && before && !changed.size && !removed.length) {
      // Nothing changed in this type: keep the previous map (streams may cache per map) and version.
      byType.set(typeUrl, before);
      versions.set(typeUrl, previous.version(typeUrl));
    } else {
      byType.set(typeUrl, map);
      versions.set(typeUrl, typeVersion(map));
    }
    if (previous) changes.set(typeUrl, Object.freeze({ changed, removed }));
    counts[TYPE_SHORT_NAME[typeUrl]] = map.size;
  }
  if (problems.length) throw new SnapshotError(problems);
  return Object.freeze({
    id: ++lastSnapshotId,
    baseId: previous?.id ?? 0,
    label,
    version: (typeUrl: string) => versions.get(typeUrl) ?? "",
    resources: (typeUrl: string) => byType.get(typeUrl) ?? EMPTY,
    changes: (typeUrl: string) => changes.get(typeUrl),
    counts: Object.freeze(counts),
  });
}
