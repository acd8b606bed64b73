import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so equal content hashes equal.
 * It runs on every record of every page: one key array per object and plain
 * concatenation, no entry pairs or part arrays (the output is what
 * `Object.entries` + sort + join gave, which stored hashes depend on).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const keys = sortKeys(Object.keys(object));
    let out = '{';
    for (const key of keys) {
      const item = object[key];
      if (item === undefined) continue;
      if (out.length > 1) out += ',';
      out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
    }
    return `${out}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Keys in code-unit order (what `<` and the default sort give). A record's
 * few keys are sorted in place: Array#sort allocates its own work arrays,
 * which on every object of every record was a sizeable share of a page's
 * garbage.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i += 1) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j -= 1) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}

/** SHA-256 (hex) of the canonical JSON text `canonicalJson` gave. */
export function hashCanonical(canonical: string): string {
  return hash('sha256', canonical, 'hex');
}

export function contentHash(value: unknown): string {
  return hashCanonical(canonicalJson(value));
}
