/**
 * @module control/xds/lean-request
 * A cheaper way to read state-of-the-world requests. A SotW client repeats its whole subscription in
 * every ACK (Envoy and gRPC do; with 1,000 load assignments that is ~50 KB of names per ACK), and
 * decoding those names as strings is most of what an ACK costs the server. Here `DiscoveryRequest` is
 * read with a schema that is the same on the wire except that `resource_names` is `bytes`, and each
 * stream turns the names into strings only when they differ from its previous request's for the same
 * type (one comparison of the names' bytes); otherwise it reuses the previous array. Runtime-neutral.
 */
import { clone, createFileRegistry, type DescFile, type DescMessage, type DescMethodBiDiStreaming, type MessageShape } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { AggregatedDiscoveryService } from "../../gen/proto/envoy/service/discovery/v3/ads_pb.ts";
import { file_envoy_service_discovery_v3_discovery, type DiscoveryRequest } from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import { StreamProtocolError } from "./stream-common.ts";

function leanDiscoveryRequestSchema(): DescMessage {
  const original = file_envoy_service_discovery_v3_discovery;
  const deps = new Map<string, DescFile>();
  const collect = (f: DescFile) => {
    if (deps.has(f.proto.name)) return;
    deps.set(f.proto.name, f);
    f.dependencies.forEach(collect);
  };
  original.dependencies.forEach(collect);
  const proto = clone(FileDescriptorProtoSchema, original.proto);
  const field = proto.messageType.find((m) => m.name === "DiscoveryRequest")?.field.find((f) => f.name === "resource_names");
  if (!field || field.type !== FieldDescriptorProto_Type.STRING) throw new Error("DiscoveryRequest.resource_names is not a string field");
  field.type = FieldDescriptorProto_Type.BYTES;
  const message = createFileRegistry(proto, (name) => deps.get(name)).getMessage("envoy.service.discovery.v3.DiscoveryRequest");
  if (!message) throw new Error("lean DiscoveryRequest not built");
  return message;
}

/** `DiscoveryRequest` with `resource_names` as bytes (identical on the wire). */
export const LeanDiscoveryRequestSchema: DescMessage = leanDiscoveryRequestSchema();
export type LeanDiscoveryRequest = Omit<DiscoveryRequest, "resourceNames"> & { resourceNames: Uint8Array[] };

/** `StreamAggregatedResources`, reading its requests with the lean schema. */
export const leanStreamAggregatedResources = {
  ...AggregatedDiscoveryService.method.streamAggregatedResources,
  input: LeanDiscoveryRequestSchema,
} as unknown as DescMethodBiDiStreaming<typeof LeanDiscoveryRequestSchema, (typeof AggregatedDiscoveryService.method.streamAggregatedResources)["output"]>;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// windows-1252 decoding maps every byte to its own code point (WHATWG), so equal strings mean equal
// bytes; one native decode and one string comparison beat a byte loop in JavaScript.
let bytesAsText: TextDecoder | null = null;
try {
  bytesAsText = new TextDecoder("windows-1252");
} catch {
  bytesAsText = null; // a runtime without it compares byte by byte
}

/**
 * The bytes from the first name to the end of the last. The names of one request are views of the one
 * buffer it was decoded from, in order (checked for the ends; the decoder guarantees the rest).
 */
function span(names: Uint8Array[]): Uint8Array | null {
  const first = names[0];
  const last = names[names.length - 1];
  if (!first || !last || first.buffer !== last.buffer) return null;
  return new Uint8Array(first.buffer, first.byteOffset, last.byteOffset + last.length - first.byteOffset);
}

interface Seen {
  raw: Uint8Array[];
  text: string | null;
  names: string[];
}

/** Whether `next` holds the same names as `prev`, and the text of its span (to compare with later). */
function compare(next: Uint8Array[], prev: Seen | undefined): { same: boolean; text: string | null } {
  const region = bytesAsText ? span(next) : null;
  const text = region ? bytesAsText!.decode(region) : null;
  if (!prev || prev.raw.length !== next.length) return { same: false, text };
  if (text !== null && prev.text !== null) {
    // Same layout (each name's length and offset from the first) and same bytes: same names.
    const base = next[0]!.byteOffset;
    const prevBase = prev.raw[0]!.byteOffset;
    for (let i = 0; i < next.length; i++) {
      const a = next[i]!;
      const b = prev.raw[i]!;
      if (a.length !== b.length || a.byteOffset - base !== b.byteOffset - prevBase) return { same: false, text };
    }
    return { same: text === prev.text, text };
  }
  for (let i = 0; i < next.length; i++) {
    const a = next[i]!;
    const b = prev.raw[i]!;
    if (a.length !== b.length) return { same: false, text };
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return { same: false, text };
  }
  return { same: true, text };
}

/**
 * Per stream: lean requests → `DiscoveryRequest`s, decoding the names only when they changed.
 * @example
 * const requests = toDiscoveryRequests(leanRequests); // for sotwStream
 */
export async function* toDiscoveryRequests(requests: AsyncIterable<MessageShape<typeof LeanDiscoveryRequestSchema>>): AsyncGenerator<DiscoveryRequest> {
  const last = new Map<string, Seen>(); // per type URL
  for await (const message of requests) {
    const req = message as unknown as LeanDiscoveryRequest;
    const next = req.resourceNames;
    const prev = last.get(req.typeUrl);
    const { same, text } = compare(next, prev);
    let names = prev?.names ?? [];
    if (!same) {
      try {
        names = next.map((b) => utf8.decode(b));
      } catch {
        throw new StreamProtocolError("DiscoveryRequest.resource_names holds invalid UTF-8");
      }
    }
    last.set(req.typeUrl, { raw: next, text, names });
    yield Object.assign(req, { resourceNames: names }) as unknown as DiscoveryRequest;
  }
}
