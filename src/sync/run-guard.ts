import { createHash, type Hash } from 'node:crypto';
import type { Checkpoint, FetchedRecord } from './sync-run.js';

/** Why a run must end now: the same request would page the provider forever. */
export interface RunStop {
  code: 'pagination_loop' | 'sync_page_budget_exceeded' | 'sync_time_budget_exceeded';
  message: string;
}

export interface RunBudget {
  maxPages: number;
  maxRunMinutes: number;
}

/**
 * Keeps one execution of a run finite. A provider that repeats a cursor or a
 * next link (or answers every page with the same records) would otherwise
 * be paged until the worker is killed; a repetition ends the run at once,
 * and a page and time budget catch what no repetition shows (a cursor that
 * changes while the pages never end).
 */
export class RunGuard {
  /**
   * Positions given so far, and the content of the pages read (per feed and
   * slice: a new slice may legitimately repeat a page), both as 128-bit
   * digests: what the guard keeps grows with every page of the run, so each
   * page costs the same few dozen bytes, however long its cursor or next link.
   */
  private readonly seen = new Set<string>();
  private readonly pages = new Map<string, Set<string>>();

  constructor(
    private readonly budget: RunBudget,
    /** When the run first started (earlier executions count). */
    private readonly startedAt: Date,
    /** Pages committed by earlier executions. */
    private readonly pagesBefore: number,
    start: Checkpoint,
  ) {
    this.seen.add(fingerprint(start));
  }

  /** Before fetching page number `pagesDone` (of this execution) at `now`. */
  beforePage(pagesDone: number, now: Date): RunStop | undefined {
    if (this.pagesBefore + pagesDone >= this.budget.maxPages) {
      return {
        code: 'sync_page_budget_exceeded',
        message: `The run read ${this.budget.maxPages} pages without reaching the end`,
      };
    }
    if (now.getTime() - this.startedAt.getTime() > this.budget.maxRunMinutes * 60_000) {
      return {
        code: 'sync_time_budget_exceeded',
        message: `The run took longer than ${this.budget.maxRunMinutes} minutes`,
      };
    }
    return undefined;
  }

  /** After a page: does following `next` repeat a position, or did the page repeat an earlier one? */
  afterPage(
    records: readonly FetchedRecord[],
    current: Checkpoint,
    next: Checkpoint | undefined,
  ): RunStop | undefined {
    if (records.length) {
      const scope = `${current.feed ?? ''}|${current.sliceFrom ?? ''}`;
      const pages = this.pages.get(scope) ?? new Set<string>();
      this.pages.set(scope, pages);
      const content = contentOf(records);
      if (pages.has(content)) {
        return {
          code: 'pagination_loop',
          message: 'The provider answered a page with the same records as an earlier one',
        };
      }
      pages.add(content);
    }
    if (!next) return undefined;
    const position = fingerprint(next);
    if (this.seen.has(position)) {
      return {
        code: 'pagination_loop',
        message: 'The provider repeated a cursor or next-page link it had already given',
      };
    }
    this.seen.add(position);
    return undefined;
  }

  /** The feed is read again from its start (its stored position expired): nothing read so far counts. */
  restarted(start: Checkpoint): void {
    this.seen.clear();
    this.pages.clear();
    this.seen.add(fingerprint(start));
  }
}

/** A page's place in the provider's pages (the watermark carried along does not count). */
function fingerprint(checkpoint: Checkpoint): string {
  const { feed, cursor, page, offset, nextUrl, sliceFrom } = checkpoint;
  return digest(
    createHash('sha256').update(JSON.stringify([feed, cursor, page, offset, nextUrl, sliceFrom])),
  );
}

function contentOf(records: readonly FetchedRecord[]): string {
  const hash = createHash('sha256');
  for (const record of records) hash.update(record.externalId).update('\0');
  return digest(hash);
}

/** The first 128 bits of a SHA-256, in 22 characters. */
function digest(hash: Hash): string {
  return hash.digest().subarray(0, 16).toString('base64url');
}
