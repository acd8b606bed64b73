import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never be printed: string conversion, JSON and
 * util.inspect all show a placeholder; only `reveal()` gives the value, so
 * every use of a secret is greppable.
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
