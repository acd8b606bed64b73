import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES } from './error-codes.js';

const srcDir = path.resolve(import.meta.dirname, '../..');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : files(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });

/** The kind each error class gives its code (ProviderError: by transience, checked apart). */
const KIND_OF_CLASS: Record<string, string> = {
  ValidationError: 'validation',
  AuthenticationError: 'unauthenticated',
  PermissionError: 'forbidden',
  NotFoundError: 'not_found',
  ConflictError: 'conflict',
  GoneError: 'gone',
  RateLimitedError: 'rate_limited',
  UnavailableError: 'unavailable',
};

describe('the error code registry', () => {
  const source = files(srcDir).map((file) => [file, readFileSync(file, 'utf8')] as const);

  it('registers each code with the kind of the error class that throws it', () => {
    const wrong: string[] = [];
    for (const [file, text] of source) {
      // AppError itself takes the kind first; its subclasses take the code first.
      for (const match of text.matchAll(/new (\w+Error)\(\s*'([a-z_]+)'/g)) {
        if (match[1] === 'AppError') continue;
        const [, errorClass, code] = match;

        const kind = KIND_OF_CLASS[errorClass!];
        const registered = ERROR_CODES[code as keyof typeof ERROR_CODES];
        if (!registered) wrong.push(`${path.relative(srcDir, file)}: ${code} is not registered`);
        else if (kind && registered[0] !== kind)
          wrong.push(
            `${path.relative(srcDir, file)}: ${code} is ${registered[0]}, thrown as ${kind}`,
          );
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no code that nothing uses', () => {
    const all = source
      .filter(([file]) => !file.endsWith('error-codes.ts'))
      .map(([, text]) => text)
      .join('\n');
    const unused = Object.keys(ERROR_CODES).filter((code) => !all.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});
