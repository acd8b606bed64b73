import { canonicalJson, hashCanonical } from './canonical-json.js';
import type { FetchedRecord } from './sync-run.js';

/**
 * A page's records as one JSON array, the single parameter the page's
 * statement reads with `json_to_recordset`: `[{ id, hash, updated, data }]`.
 *
 * Why one text and not four arrays (`unnest($ids, $data::jsonb[], …)`):
 * node-postgres writes an array parameter as an array literal, escaping
 * every element with two regex replaces, and with Prisma's raw queries the
 * arrays were also serialised to JSON and parsed back. Those copies were
 * about half of the 1.2 MB a worker allocated per page of 100 contacts (now
 * 0.45 MB); the rate of allocation is what sets how often V8 collects and
 * how much it promotes. One string is passed through as it is.
 *
 * The canonical JSON of each record is both what is hashed and what is
 * stored: jsonb keeps no key order, so the stored value is the same.
 */
export function pageRowsJson(records: readonly FetchedRecord[]): string {
  let out = '[';
  for (const record of records) {
    const data = canonicalJson(record.data);
    const updated = record.providerUpdatedAt
      ? `"${record.providerUpdatedAt.toISOString()}"`
      : 'null';
    if (out.length > 1) out += ',';
    out += `{"id":${JSON.stringify(record.externalId)},"hash":"${hashCanonical(data)}","updated":${updated},"data":${data}}`;
  }
  return `${out}]`;
}
