import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { ACCESS_METADATA } from './auth.decorators.js';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function controllerFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : controllerFiles(full);
    return entry.name.endsWith('.controller.ts') ? [full] : [];
  });
}

/** Default deny, checked statically: every route of every controller declares who may call it. */
describe('route access rules', () => {
  it('every route has @Public() or @RequireService()', async () => {
    const unguarded: string[] = [];
    let routes = 0;
    for (const file of controllerFiles(srcDir)) {
      const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const exported of Object.values(exports)) {
        if (
          typeof exported !== 'function' ||
          Reflect.getMetadata(PATH_METADATA, exported) === undefined
        )
          continue;
        const prototype = exported.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[name];
          if (
            typeof handler !== 'function' ||
            Reflect.getMetadata(METHOD_METADATA, handler) === undefined
          )
            continue;
          routes += 1;
          const rule =
            Reflect.getMetadata(ACCESS_METADATA, handler) ??
            Reflect.getMetadata(ACCESS_METADATA, exported);
          if (!rule) unguarded.push(`${exported.name}.${name}`);
        }
      }
    }
    expect(routes).toBeGreaterThan(5);
    expect(unguarded).toEqual([]);
  });
});
