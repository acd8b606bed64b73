import { z } from 'zod';

type Json = Record<string, unknown>;

export interface ResponseSpec {
  description: string;
  /** A registered zod schema (`.meta({ id })`): referenced from components. */
  schema?: z.ZodType;
  example?: unknown;
  /** Non-JSON answers (HTML, JavaScript, redirects). */
  contentType?: string;
  /** Response headers worth a caller's attention, by name. */
  headers?: Record<string, { description: string; enum?: string[] }>;
}

export interface OperationSpec {
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** A service-key action, 'any' key, or public (browser, provider, ops). */
  access:
    'public' | 'any' | 'token' | 'connect' | 'manage' | 'sync' | 'proxy' | 'connect-or-session';
  pathParams?: Array<{ name: string; description: string; uuid?: boolean }>;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; required: boolean; example?: unknown };
  responses: Record<string, ResponseSpec>;
}

/** The `:id` of every /v1/connections/{id} route. */
export const connectionIdParam = { name: 'id', description: 'The connection id', uuid: true };

const REF = (id: string) => `#/components/schemas/${id}`;

function idOf(schema: z.ZodType): string {
  const id = (schema.meta() as { id?: string } | undefined)?.id;
  if (!id) throw new Error('response schemas must be registered with .meta({ id })');
  return id;
}

/** JSON Schema without what only clutters a reader's view (long generated patterns beside a format). */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === '$schema' || key === '$id') continue;
    if (key === 'pattern' && 'format' in (node as Json)) continue;
    out[key] = tidy(value);
  }
  return out;
}

/** Request bodies and query parameters: inline, as the validating schema reads them. */
export const inputSchema = (schema: z.ZodType): Json =>
  tidy(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })) as Json;

/** Every registered response schema, as OpenAPI components referring to each other. */
export function componentSchemas(schemas: z.ZodType[]): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const schema of schemas) registry.add(schema, { id: idOf(schema) });
  const { schemas: out } = z.toJSONSchema(registry, { uri: REF, io: 'output' });
  // Shared definitions only appear for a nested schema that is not listed: list it instead.
  if (out.__shared) throw new Error('a nested response schema is missing from the list');
  return tidy(out) as Record<string, Json>;
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: REF('Error') } } },
});

const ACCESS_TEXT: Record<OperationSpec['access'], string> = {
  public: 'No service key (browser, provider or operator).',
  any: 'Any valid service key.',
  token: 'A service key with the `token` action.',
  connect: 'A service key with the `connect` action.',
  manage: 'A service key with the `manage` action.',
  sync: 'A service key with the `sync` action.',
  proxy: 'A service key with the `proxy` action.',
  'connect-or-session':
    "A service key with the `connect` action, or the connect session's own token as the bearer.",
};

export function operation(spec: OperationSpec): Json {
  const parameters = [
    ...(spec.pathParams ?? []).map((p) => ({
      name: p.name,
      in: 'path',
      required: true,
      description: p.description,
      schema: p.uuid ? { type: 'string', format: 'uuid' } : { type: 'string' },
    })),
    ...(spec.query ? queryParameters(spec.query) : []),
  ];
  const responses: Json = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const headers = response.headers && { headers: headerObjects(response.headers) };
    if (!response.schema && !response.contentType) {
      responses[status] = { description: response.description, ...headers };
      continue;
    }
    const media = response.schema
      ? { schema: { $ref: REF(idOf(response.schema)) } }
      : { schema: { type: 'string' } };
    if (response.example !== undefined) Object.assign(media, { example: response.example });
    responses[status] = {
      description: response.description,
      ...headers,
      content: { [response.contentType ?? 'application/json']: media },
    };
  }
  if (spec.access !== 'public') {
    responses['401'] ??= errorResponse(
      'No service key, or not an active one (`missing_service_key`, `invalid_service_key`)',
    );
    responses['403'] ??= errorResponse('The key lacks the action, tenant or integration');
    responses['429'] ??= errorResponse(
      'Too many invalid service keys from this address (`too_many_failed_attempts`, with Retry-After)',
    );
  }
  responses['4XX'] = errorResponse('Bad input or state: the body says which (`error.code`)');
  responses['5XX'] = errorResponse(
    'A provider or dependency is down (502/503 with a code; every 503 carries Retry-After)',
  );
  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    description: [spec.description, `**Access:** ${ACCESS_TEXT[spec.access]}`]
      .filter(Boolean)
      .join('\n\n'),
    ...(spec.access === 'public' ? { security: [] } : { security: [{ serviceKey: [] }] }),
    'x-required-action': spec.access,
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.body.required,
            content: {
              'application/json': {
                schema: inputSchema(spec.body.schema),
                ...(spec.body.example === undefined ? {} : { example: spec.body.example }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

function headerObjects(headers: NonNullable<ResponseSpec['headers']>): Json {
  return Object.fromEntries(
    Object.entries(headers).map(([name, header]) => [
      name,
      {
        description: header.description,
        schema: { type: 'string', ...(header.enum ? { enum: header.enum } : {}) },
      },
    ]),
  );
}

function queryParameters(schema: z.ZodObject): Json[] {
  const shape = inputSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(shape.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: shape.required?.includes(name) ?? false,
    schema: property,
  }));
}
