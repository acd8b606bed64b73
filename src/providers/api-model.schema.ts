import { z } from 'zod';

/**
 * How a REST API is read by syncs: one schema for the catalogue's built-in
 * providers and for `api:` in the integrations file, so anything a built-in
 * provider can express, an operator can express for any OAuth2 API.
 */

export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, - and _');

/**
 * A path into parsed JSON, dot-separated (`paging.next.after`). A key that
 * itself contains dots (`@odata.nextLink`) is matched whole: see readPath.
 */
const fieldPath = z.string().min(1);

const limit = z.number().int().min(1).max(10_000);

const scopeName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'is not a valid scope token');

/**
 * A scope a request needs: one name, or alternatives any one of which will
 * do (a broader scope a user may have granted instead: Google `contacts`
 * for `contacts.readonly`). The first alternative is the one asked for.
 */
export const neededScopeSchema = z.union([
  scopeName,
  z.strictObject({ anyOf: z.array(scopeName).min(2) }),
]);
const param = z.string().min(1);

/** Pagination styles. Parameters go in the query string, or in the JSON body of a POST. */
export const paginationSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('cursor'),
    cursorParam: param,
    nextCursorPath: fieldPath,
    limitParam: param.optional(),
    limit: limit.optional(),
  }),
  z.strictObject({
    type: z.literal('page'),
    pageParam: param,
    firstPage: z.number().int().min(0).default(1),
    limitParam: param,
    limit: limit.default(100),
    /** A flag in the body saying more pages follow (else a short page is the last). */
    hasMorePath: fieldPath.optional(),
    /**
     * Past this many pages the provider serves no page numbers (Zoho: 2,000
     * records): the next pages are asked for by the token it returns.
     */
    tokenAfterPages: z
      .strictObject({ pages: z.number().int().min(1), tokenParam: param, nextTokenPath: fieldPath })
      .optional(),
  }),
  z.strictObject({
    type: z.literal('offset'),
    offsetParam: param,
    limitParam: param,
    limit: limit.default(100),
    hasMorePath: fieldPath.optional(),
  }),
  /** RFC 8288 `Link: <…>; rel="next"` headers. */
  z.strictObject({
    type: z.literal('link'),
    limitParam: param.optional(),
    limit: limit.optional(),
  }),
  /** The next page's URL in the body (Salesforce `nextRecordsUrl`, OData `@odata.nextLink`). */
  z.strictObject({
    type: z.literal('next_url'),
    nextUrlPath: fieldPath,
    limitParam: param.optional(),
    limit: limit.optional(),
  }),
]);

/** How the incremental watermark is written into a request. */
export const watermarkFormats = [
  'iso',
  'iso_seconds',
  'iso_offset',
  'epoch_ms',
  'epoch_seconds',
] as const;

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, 'is not an HTTP header name');
const reservedHeader = (name: string) => /^(authorization|cookie|host)$/i.test(name);
const headers = z
  .record(headerName, z.string())
  .refine((h) => !Object.keys(h).some(reservedHeader), 'may not set Authorization, Cookie or Host');

/**
 * An answer that means something (a stored position or sync token expired):
 * its status, and/or a value in its JSON body.
 */
export const answerRuleSchema = z
  .strictObject({
    status: z.number().int().min(300).max(599).optional(),
    bodyPath: fieldPath.optional(),
    equals: z.string().min(1).optional(),
  })
  .refine((r) => r.status !== undefined || r.bodyPath !== undefined, 'give status or bodyPath')
  .refine((r) => (r.bodyPath === undefined) === (r.equals === undefined), 'bodyPath needs equals');

/** One request: method, path, static query and headers, a JSON body template for POST. */
const requestFields = {
  method: z.enum(['GET', 'POST']).optional(),
  path: z.string().regex(/^\//, 'must start with /'),
  /** Values may hold `{since}`, the formatted watermark (SOQL `WHERE SystemModstamp > {since}`). */
  query: z.record(param, z.string()).optional(),
  /** Values may hold `{since}` (Zoho's `If-Modified-Since`). */
  headers: headers.optional(),
  /** POST only; string values may hold `{since}`. */
  body: z.json().optional(),
  /** Where the items are; the body itself when absent. Missing or null items are an empty page. */
  itemsPath: fieldPath.optional(),
  pagination: paginationSchema,
};

/**
 * Another request of the same model, given as changes to the main one:
 * `incremental` (runs after a watermark) and `deletions` (a tombstone feed,
 * read after the changes in incremental runs).
 */
const requestOverride = z.strictObject({
  method: requestFields.method,
  path: requestFields.path.optional(),
  query: requestFields.query,
  headers: requestFields.headers,
  body: requestFields.body,
  itemsPath: requestFields.itemsPath,
  pagination: paginationSchema.optional(),
  /**
   * The provider returns at most this many results per query (HubSpot search:
   * 10,000): past it, the run starts a new query from the largest `updated at`
   * seen, so a large backlog is read in slices. Needs a request sorted by
   * `updated at` ascending, with an inclusive `{since}` filter.
   */
  maxResults: z.number().int().min(1).optional(),
});

export const modelSchema = z
  .strictObject({
    ...requestFields,
    /** Where the id is; several paths: the first present (Dynamics tombstones carry `id`). */
    idField: z.union([fieldPath, z.array(fieldPath).min(1)]).default('id'),
    updatedAtField: fieldPath.optional(),
    /**
     * A field that marks a record deleted: true, `"true"`, 1 or an object
     * (`archived`, `IsDeleted`, Graph's `@removed`), or `deletedEquals`.
     */
    deletedField: fieldPath.optional(),
    deletedEquals: z.string().min(1).optional(),
    /** Shorthand for an incremental run that adds `<param>={since}` to the main request. */
    updatedSinceParam: param.optional(),
    incremental: requestOverride.optional(),
    deletions: requestOverride.optional(),
    since: z
      .strictObject({
        format: z.enum(watermarkFormats).default('iso'),
        /** Re-read this much before the watermark: late-indexed changes are not lost. */
        lookBackSeconds: z
          .number()
          .int()
          .min(0)
          .max(7 * 86_400)
          .default(0),
      })
      .optional(),
    /** Our record shape: field name → path in the provider's item (`properties.email`). */
    fields: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), fieldPath).optional(),
    /**
     * An answer meaning a stored position (query locator, page token) has
     * expired: the feed is read again from its first page.
     */
    staleCursor: z.array(answerRuleSchema).optional(),
    /**
     * An opaque watermark (Google sync tokens, OData delta links) instead of a
     * time: the last page of a run carries it at `nextPath`; the next run
     * sends it as `param` (or, without `param`, GETs it: a delta link). An
     * answer matching `expired` makes the run a full one.
     */
    syncToken: z
      .strictObject({
        nextPath: fieldPath,
        param: param.optional(),
        expired: z.array(answerRuleSchema).min(1),
      })
      .optional(),
    /**
     * Scopes a run of this model needs: a connection granted fewer fails its
     * runs at once (`insufficient_scope`), and shows them as `missingScopes`.
     */
    scopes: z.array(neededScopeSchema).optional(),
    /** Budgets of one run of this model (default: SYNC_MAX_PAGES, SYNC_MAX_RUN_MINUTES). */
    maxPages: z.number().int().min(1).optional(),
    maxRunMinutes: z.number().int().min(1).optional(),
  })
  .superRefine((model, ctx) => {
    const problem = (path: PropertyKey[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if ((model.incremental || model.updatedSinceParam) && !model.updatedAtField)
      problem(['updatedAtField'], 'is required for incremental runs');
    if (model.syncToken && (model.updatedSinceParam || model.since))
      problem(['syncToken'], 'replaces the time watermark (updatedSinceParam, since)');
    if (model.syncToken && (model.deletions || model.incremental?.maxResults))
      problem(['syncToken'], 'reports deletions itself and has no result window');
    if (model.deletedEquals !== undefined && !model.deletedField)
      problem(['deletedEquals'], 'needs deletedField');
    if (
      model.incremental &&
      !usesSince(model.incremental) &&
      !model.updatedSinceParam &&
      !model.syncToken
    )
      problem(['incremental'], 'must use {since} in its query, headers or body');
    // Tombstones are read after the changes of an incremental run; full runs find deletions by absence.
    if (model.deletions && !isIncremental(model))
      problem(['deletions'], 'needs incremental runs (updatedSinceParam or incremental)');
    if (usesSince(model)) problem(['query'], 'only incremental and deletions may use {since}');
    for (const [where, request] of [
      [[], model],
      [['incremental'], model.incremental],
      [['deletions'], model.deletions],
    ] as const) {
      if (!request) continue;
      const method = request.method ?? (where.length ? model.method : undefined) ?? 'GET';
      if (request.body !== undefined && method !== 'POST')
        problem([...where, 'body'], 'needs method: POST');
    }
  });

/** Whether a model can read only what changed after a watermark (a time or a sync token). */
export function isIncremental(model: {
  updatedAtField?: string;
  updatedSinceParam?: string;
  incremental?: unknown;
  syncToken?: unknown;
}): boolean {
  return (
    !!model.syncToken || !!(model.updatedAtField && (model.updatedSinceParam || model.incremental))
  );
}

function usesSince(request: {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
}): boolean {
  return JSON.stringify([
    request.query ?? {},
    request.headers ?? {},
    request.body ?? null,
  ]).includes('{since}');
}

/** `*.salesforce.com` (any subdomain) or an exact host name. */
export const hostPattern = z
  .string()
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/,
    'must be a host name or *.domain',
  );

export type PaginationConfig = z.infer<typeof paginationSchema>;
export type AnswerRule = z.infer<typeof answerRuleSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type NeededScope = z.infer<typeof neededScopeSchema>;
export type RequestOverride = z.infer<typeof requestOverride>;
export type WatermarkFormat = (typeof watermarkFormats)[number];
