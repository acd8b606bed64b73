import type {
  ModelConfig,
  PaginationConfig,
  RequestOverride,
} from '../../providers/api-model.schema.js';

/** One of a model's requests, with every default applied. */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: unknown;
  itemsPath?: string;
  pagination: PaginationConfig;
  maxResults?: number;
}

/** Which request of a model a page belongs to. */
export type Feed = 'full' | 'changes' | 'deletions';

/**
 * The request of a feed: the model's own (full runs), its `incremental`
 * variant (changes after the watermark), or its `deletions` variant. A
 * variant on the same endpoint adds to the main request's query and headers;
 * one on another endpoint or method starts afresh.
 */
export function requestSpec(model: ModelConfig, feed: Feed): RequestSpec {
  const main: RequestSpec = {
    method: model.method ?? 'GET',
    path: model.path,
    query: { ...model.query },
    headers: { ...model.headers },
    body: model.body,
    itemsPath: model.itemsPath,
    pagination: model.pagination,
  };
  if (feed === 'full') return main;
  const override: RequestOverride =
    (feed === 'changes' ? model.incremental : model.deletions) ?? {};
  const spec = applyOverride(main, override);
  if (feed === 'changes' && model.updatedSinceParam)
    spec.query = { ...spec.query, [model.updatedSinceParam]: '{since}' };
  return spec;
}

function applyOverride(main: RequestSpec, override: RequestOverride): RequestSpec {
  const method = override.method ?? main.method;
  const path = override.path ?? main.path;
  const sameEndpoint = method === main.method && path === main.path;
  return {
    method,
    path,
    query: { ...(sameEndpoint ? main.query : {}), ...override.query },
    headers: { ...main.headers, ...override.headers },
    body: override.body ?? (sameEndpoint ? main.body : undefined),
    itemsPath: override.itemsPath ?? main.itemsPath,
    pagination: override.pagination ?? main.pagination,
    maxResults: override.maxResults,
  };
}

/** `{since}` in a template string, replaced; JSON bodies are walked, keys are left alone. */
export function fillTemplate(value: unknown, since: string | undefined): unknown {
  if (typeof value === 'string')
    return since === undefined ? value : value.replaceAll('{since}', since);
  if (Array.isArray(value)) return value.map((item) => fillTemplate(item, since));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, fillTemplate(item, since)]),
    );
  }
  return value;
}
