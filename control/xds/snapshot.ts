/**
 * @module control/xds/snapshot
 * Immutable, versioned xDS snapshots: one node's complete configuration (listeners, routes, clusters,
 * load assignments, secrets). Each resource is serialized once when the snapshot is made and carries a
 * content version (a hash of its bytes), so delta streams can tell what changed; each type's version is a
 * hash of its resources' names and versions, so a state-of-the-world stream only pushes the types that
 * changed. Nothing mutates a snapshot after `createSnapshot` returns (the maps are read-only views).
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

export interface Snapshot {
  /** A human label (e.g. the config store revision); not used for change detection. */
  readonly label: string;
  /** The type's version: a hash of its resources' names and versions (`"0"` for an empty type). */
  version(typeUrl: string): string;
  resources(typeUrl: string): ReadonlyMap<string, SnapshotResource>;
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

/** Two 32-bit FNV-1a hashes with different offsets, as 16 hex digits. */
export function hashBytes(bytes: Uint8Array, seed = 0): string {
  let h1 = (0x811c9dc5 ^ seed) >>> 0;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b, 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

const encoder = new TextEncoder();
const EMPTY: ReadonlyMap<string, SnapshotResource> = new Map();

/**
 * Serialized form per message object, so a message reused from the previous snapshot (translators
 * cache per IR object) is not serialized and hashed again. Messages in a snapshot are never mutated.
 */
const encoded = new WeakMap<Message, { bytes: Uint8Array; version: string }>();

function encode(typeUrl: ResourceTypeUrl, message: Message): { bytes: Uint8Array; version: string } {
  let e = encoded.get(message);
  if (!e) {
    const bytes = encodeResource(typeUrl, message);
    e = { bytes, version: hashBytes(bytes) };
    encoded.set(message, e);
  }
  return e;
}

/**
 * Makes an immutable snapshot. Duplicate names within a type are an error.
 * @example
 * const snap = createSnapshot({ [TypeUrl.cluster]: [cluster], [TypeUrl.endpoint]: [cla] }, "rev-12");
 */
export function createSnapshot(input: SnapshotInput, label = ""): Snapshot {
  const byType = new Map<string, ReadonlyMap<string, SnapshotResource>>();
  const versions = new Map<string, string>();
  const counts: Record<string, number> = {};
  const problems: string[] = [];
  for (const typeUrl of ALL_TYPE_URLS) {
    const list = input[typeUrl] ?? [];
    const map = new Map<string, SnapshotResource>();
    for (const message of list) {
      const name = resourceName(typeUrl, message);
      if (!name) problems.push(`${TYPE_SHORT_NAME[typeUrl]}: a resource has no name`);
      else if (map.has(name)) problems.push(`${TYPE_SHORT_NAME[typeUrl]}: duplicate resource name "${name}"`);
      const { bytes, version } = encode(typeUrl, message);
      map.set(name, Object.freeze({ name, message, bytes, version }));
    }
    const names = [...map.keys()].sort();
    const digest = names.map((n) => `${n}\u0000${map.get(n)!.version}`).join("\u0001");
    versions.set(typeUrl, names.length ? hashBytes(encoder.encode(digest)) : "0");
    byType.set(typeUrl, map);
    counts[TYPE_SHORT_NAME[typeUrl]] = map.size;
  }
  if (problems.length) throw new SnapshotError(problems);
  return Object.freeze({
    label,
    version: (typeUrl: string) => versions.get(typeUrl) ?? "",
    resources: (typeUrl: string) => byType.get(typeUrl) ?? EMPTY,
    counts: Object.freeze(counts),
  });
}
