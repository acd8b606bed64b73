import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from '@swc/core';
import { swcOptions } from '../swc-options.mjs';

/** `./x.js` imports point at `./x.ts` sources (the compiled layout's names). */
export async function resolve(specifier, context, next) {
  if (
    /^\.{1,2}\//.test(specifier) &&
    specifier.endsWith('.js') &&
    context.parentURL?.startsWith('file:')
  ) {
    const url = new URL(specifier, context.parentURL);
    const source = new URL(url.href.replace(/\.js$/, '.ts'));
    if (!existsSync(url) && existsSync(source)) return { url: source.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts') && !url.includes('/node_modules/')) {
    const { code } = await transform(await readFile(new URL(url), 'utf8'), {
      ...swcOptions,
      filename: fileURLToPath(url),
    });
    return { format: 'module', source: code, shortCircuit: true };
  }
  return next(url, context);
}
