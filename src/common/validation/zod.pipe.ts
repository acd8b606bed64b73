import { createParamDecorator, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ValidationError } from '../errors/app-error.js';

type Part = 'body' | 'query' | 'params';

/**
 * Validates a request part (body, query, params) against a zod schema and
 * returns the parsed value. The first problem is reported with its field.
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly part: Part = 'body',
  ) {}

  transform(value: unknown): z.infer<S> {
    return parsePart(this.schema, value, this.part);
  }
}

/**
 * The query string, parsed like `@Query(new ZodPipe(schema, 'query'))`,
 * but while Nest extracts the argument: a pipe makes Nest await every
 * argument of the route (a promise per request), which was a measurable
 * part of a token read. A request without query parameters, the usual
 * token read, gets the schema's answer for none, worked out once.
 */
export const ValidQuery = (schema: z.ZodType): ParameterDecorator =>
  // Wrapped, and not as `{ schema }`: Nest takes an object with `transform`
  // (a zod schema has one) for a pipe, and `{ schema }` for its own options.
  queryParameter({ querySchema: schema });

const queryParameter = createParamDecorator(
  ({ querySchema: schema }: { querySchema: z.ZodType }, context: ExecutionContext): unknown => {
    const query = context.switchToHttp().getRequest<{ query?: object }>().query;
    if (query !== undefined && !hasKeys(query)) {
      let none = NO_PARAMETERS.get(schema);
      if (none === undefined) {
        none = schema.safeParse({});
        NO_PARAMETERS.set(schema, none);
      }
      // A copy: a handler may change its own.
      if (none.success) return { ...(none.data as object) };
    }
    return parsePart(schema, query, 'query');
  },
);

const NO_PARAMETERS = new WeakMap<z.ZodType, z.ZodSafeParseResult<unknown>>();

function hasKeys(value: object): boolean {
  for (const _ in value) return true;
  return false;
}

function parsePart<S extends z.ZodType>(schema: S, value: unknown, part: Part): z.infer<S> {
  const parsed = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new ValidationError(
      'unknown_field',
      `Unknown field${issue.keys.length > 1 ? 's' : ''} in ${part}: ${issue.keys.join(', ')}`,
    );
  }
  const field = issue.path.map(String).join('.');
  if (!field && value === undefined)
    throw new ValidationError('invalid_request', `The ${part} is missing`);
  throw new ValidationError(
    'invalid_request',
    field ? `${part}.${field}: ${issue.message}` : `${part}: ${issue.message}`,
  );
}
