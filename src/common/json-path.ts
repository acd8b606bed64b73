/**
 * Reads a dotted path (`data.items`, `paging.next.after`, `emails.0.value`)
 * from parsed JSON. A key that itself contains dots is matched whole, the
 * longest first: `@odata.nextLink` reads the OData key, not `@odata` then
 * `nextLink`. Only own properties are read (never `constructor` & co.).
 */
export function readPath(value: unknown, path: string): unknown {
  // One key (most id and timestamp fields, read for every record of every page): no split.
  if (!path.includes('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    return Object.hasOwn(value, path) ? (value as Record<string, unknown>)[path] : undefined;
  }
  const parts = path.split('.');
  let current = value;
  let i = 0;
  while (i < parts.length) {
    if (current === null || typeof current !== 'object') return undefined;
    const object = current as Record<string, unknown>;
    let end = parts.length;
    while (end > i + 1 && !Object.hasOwn(object, parts.slice(i, end).join('.'))) end -= 1;
    const key = parts.slice(i, end).join('.');
    current = Object.hasOwn(object, key) ? object[key] : undefined;
    i = end;
  }
  return current;
}

/** The value at `path` as a non-empty string (numbers are converted), else undefined. */
export function readStringPath(value: unknown, path: string | undefined): string | undefined {
  if (!path) return undefined;
  const found = readPath(value, path);
  if (typeof found === 'number' && Number.isFinite(found)) return String(found);
  return typeof found === 'string' && found.length > 0 ? found : undefined;
}
