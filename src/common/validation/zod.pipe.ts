import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ValidationError } from '../errors/app-error.js';

/**
 * Validates a request part (body, query, params) against a zod schema and
 * returns the parsed value. The first problem is reported with its field.
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly part: 'body' | 'query' | 'params' = 'body',
  ) {}

  transform(value: unknown): z.infer<S> {
    const parsed = this.schema.safeParse(value ?? (this.part === 'body' ? undefined : {}));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new ValidationError(
        'unknown_field',
        `Unknown field${issue.keys.length > 1 ? 's' : ''} in ${this.part}: ${issue.keys.join(', ')}`,
      );
    }
    const field = issue.path.map(String).join('.');
    if (!field && value === undefined)
      throw new ValidationError('invalid_request', `The ${this.part} is missing`);
    throw new ValidationError(
      'invalid_request',
      field ? `${this.part}.${field}: ${issue.message}` : `${this.part}: ${issue.message}`,
    );
  }
}
