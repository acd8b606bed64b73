import { readPath } from '../common/json-path.js';

/**
 * A record in our shape: each field of the model's `fields` read from the
 * provider's item by its path (`properties.email`, `emails.0.value`). Done
 * when records are read, so a changed mapping applies to what is stored.
 * Missing values are null; objects and arrays are kept as they are.
 */
export function mapFields(
  fields: Readonly<Record<string, string>> | undefined,
  data: unknown,
): Record<string, unknown> | undefined {
  if (!fields) return undefined;
  return Object.fromEntries(
    Object.entries(fields).map(([name, path]) => [name, readPath(data, path) ?? null]),
  );
}
