/**
 * @module edge/fetch-host/read-up-to
 * Reads a request body of unknown length into memory up to a byte limit, for the listener's
 * `maxRequestBodyBytes`: the fetch host checks the whole body before the upstream sees any of it.
 */

/** The whole body if it has at most `limit` bytes; `undefined` (and the rest discarded) when it has more. */
export async function readUpTo(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
