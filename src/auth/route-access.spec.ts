import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { buildOpenApiDocument } from '../docs/openapi.js';
import { ACCESS_METADATA, type AccessRule, LISTENER_METADATA } from './auth.decorators.js';
import { listenersOf } from './route-listeners.js';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function controllerFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : controllerFiles(full);
    return entry.name.endsWith('.controller.ts') ? [full] : [];
  });
}

interface Route {
  name: string;
  path: string;
  method: string;
  handler: unknown;
  controller: unknown;
}

/** Every route of every controller under src/, found by file name. */
async function routes(): Promise<Route[]> {
  const found: Route[] = [];
  for (const file of controllerFiles(srcDir)) {
    const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const exported of Object.values(exports)) {
      const base =
        typeof exported === 'function'
          ? (Reflect.getMetadata(PATH_METADATA, exported) as string | undefined)
          : undefined;
      if (base === undefined) continue;
      const prototype = (exported as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        const method =
          typeof handler === 'function'
            ? (Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined)
            : undefined;
        if (method === undefined) continue;
        const sub = Reflect.getMetadata(PATH_METADATA, handler as object) as string;
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
        found.push({
          name: `${(exported as { name: string }).name}.${name}`,
          path,
          method: RequestMethod[method]!,
          handler,
          controller: exported,
        });
      }
    }
  }
  return found;
}

/** Route path → OpenAPI path: `:id` → `{id}`, the trailing wildcard (the proxy's) → `{path}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\/\*$/, '/{path}');
}

/** The OpenAPI methods a route must document: `@All()` (the proxy) is every method it forwards. */
function methodsOf(route: Route): string[] {
  return route.method === 'ALL'
    ? ['get', 'head', 'post', 'put', 'patch', 'delete', 'options']
    : [route.method.toLowerCase()];
}

/** Default deny, checked statically: every route of every controller declares who may call it. */
describe('route access rules', () => {
  it('every route has @Public() or @RequireService()', async () => {
    const all = await routes();
    expect(all.length).toBeGreaterThan(5);
    const unguarded = all.filter(
      (r) =>
        !Reflect.getMetadata(ACCESS_METADATA, r.handler as object) &&
        !Reflect.getMetadata(ACCESS_METADATA, r.controller as object),
    );
    expect(unguarded.map((r) => r.name)).toEqual([]);
  });

  it('every route is in the OpenAPI document, with its method', async () => {
    const paths = buildOpenApiDocument('https://broker.example').paths as Record<
      string,
      Record<string, unknown>
    >;
    const missing = (await routes()).filter((r) => {
      const documented = paths[openApiPath(r.path)];
      return methodsOf(r).some((method) => !documented?.[method]);
    });
    expect(missing.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it("documents each route's access rule as the guard enforces it", async () => {
    const paths = buildOpenApiDocument('https://broker.example').paths as Record<
      string,
      Record<string, { 'x-required-action'?: string }>
    >;
    const wrong = (await routes()).flatMap((r) => {
      const rule = (Reflect.getMetadata(ACCESS_METADATA, r.handler as object) ??
        Reflect.getMetadata(ACCESS_METADATA, r.controller as object)) as AccessRule;
      const expected =
        rule.type === 'public'
          ? 'public'
          : rule.orConnectSessionToken
            ? 'connect-or-session'
            : (rule.action ?? 'any');
      return methodsOf(r).flatMap((method) => {
        const documented = paths[openApiPath(r.path)]?.[method]?.['x-required-action'];
        return documented === expected ? [] : [`${method} ${r.path}: ${documented} ≠ ${expected}`];
      });
    });
    expect(wrong).toEqual([]);
  });

  it('with an internal listener, serves service keys only there and browser flows only on the public one', async () => {
    const placement: Record<string, string> = {};
    for (const r of await routes()) {
      const rule = (Reflect.getMetadata(ACCESS_METADATA, r.handler as object) ??
        Reflect.getMetadata(ACCESS_METADATA, r.controller as object)) as AccessRule;
      const pinned = (Reflect.getMetadata(LISTENER_METADATA, r.handler as object) ??
        Reflect.getMetadata(LISTENER_METADATA, r.controller as object)) as
        'public' | 'internal' | undefined;
      const where = listenersOf(rule, pinned);
      placement[`${r.method} ${r.path}`] = where.length === 2 ? 'both' : where[0]!;
      // A route that takes a service key alone is never on the public listener.
      if (rule.type === 'service' && !rule.orConnectSessionToken)
        expect(where).toEqual(['internal']);
    }
    expect(
      Object.entries(placement)
        .filter(([, where]) => where !== 'internal')
        .map(([route, where]) => `${route}: ${where}`)
        .sort(),
    ).toEqual(
      [
        'GET /v1/connect: public',
        'GET /v1/oauth/callback/:integrationKey: public',
        'GET /sdk/connect.js: public',
        'GET /v1/connect-sessions/:id: both',
        'GET /health/live: both',
        'GET /health/ready: both',
        'GET /docs: both',
        'GET /docs/openapi.json: both',
        'GET /docs/assets/:file: both',
      ].sort(),
    );
    expect(placement['GET /metrics']).toBe('internal');
    expect(placement['POST /admin/login']).toBe('internal');
  });
});
