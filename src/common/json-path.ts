/** Reads a dotted path (`data.items`, `paging.next.after`) from parsed JSON. */
export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
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
