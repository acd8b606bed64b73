import type { WatermarkFormat } from '../../providers/api-model.schema.js';

/** A date and time with no zone: `2026-01-01 10:00:00` (Pipedrive v1), `2026-01-01T10:00:00`. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * A provider timestamp: ISO 8601 (a missing zone is UTC, never the
 * server's local time), `+0000` offsets (Salesforce), or epoch milliseconds
 * (as number or digits).
 */
export function parseTimestamp(value: unknown): Date | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{11,}$/.test(value))) {
    const date = new Date(Number(value));
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value !== 'string') return undefined;
  const text = ZONELESS.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The watermark as a request wants it: SOQL takes `2026-01-01T10:00:00Z`, HubSpot epoch ms. */
export function formatWatermark(iso: string, format: WatermarkFormat): string {
  const date = new Date(iso);
  switch (format) {
    case 'iso':
      return date.toISOString();
    case 'iso_seconds':
      return `${date.toISOString().slice(0, 19)}Z`;
    case 'iso_offset':
      return `${date.toISOString().slice(0, 19)}+00:00`;
    case 'epoch_ms':
      return String(date.getTime());
    case 'epoch_seconds':
      return String(Math.floor(date.getTime() / 1000));
  }
}
