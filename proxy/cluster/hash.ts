/**
 * @module proxy/cluster/hash
 * A fast 32-bit string hash for consistent hashing (ring hash, Maglev) and request hash keys:
 * FNV-1a over UTF-16 code units with a seed, then murmur3's finalizer for avalanche.
 */

export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
