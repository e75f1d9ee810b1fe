/**
 * @module core/identity/sha256
 * Synchronous SHA-256 for certificate fingerprints, from @noble/hashes (audited, runtime-neutral).
 * WebCrypto only offers an asynchronous digest, which would make every trust-bundle operation async.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}
