import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { validate } from '@readme/openapi-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import type { z } from 'zod';
import { examples } from './openapi-examples.js';
import { buildOpenApiDocument, RESPONSE_SCHEMAS } from './openapi.js';

type Operation = {
  operationId: string;
  tags: string[];
  responses: Record<
    string,
    { content?: Record<string, { schema?: { $ref?: string }; example?: unknown }> }
  >;
};

const document = buildOpenApiDocument('https://broker.example.com');
const operations = Object.entries(
  document.paths as Record<string, Record<string, Operation>>,
).flatMap(([route, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ route, method, op })),
);
const schemaById = new Map(
  RESPONSE_SCHEMAS.map((schema) => [(schema.meta() as { id: string }).id, schema as z.ZodType]),
);

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(document) as never);
    expect('errors' in result ? result.errors : []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('gives every operation a unique operationId, a tag and a success response', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { route, method, op } of operations) {
      expect({ route, method, tags: op.tags.length }).toEqual({ route, method, tags: 1 });
      const success = Object.keys(op.responses).filter((s) => /^[23]\d\d$/.test(s));
      expect({ route, method, success: success.length > 0 }).toEqual({
        route,
        method,
        success: true,
      });
    }
  });

  it('describes every JSON success body with a schema, and every example parses with it', () => {
    for (const { route, method, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const json = response.content?.['application/json'];
        if (!json || !/^[2-4]/.test(status) || route === '/docs/openapi.json') continue;
        const ref = json.schema?.$ref;
        expect({ route, method, status, ref }).toEqual({
          route,
          method,
          status,
          ref: expect.stringMatching(/^#\/components\/schemas\//),
        });
        const schema = schemaById.get(ref!.split('/').pop()!)!;
        if (json.example !== undefined) expect(() => schema.parse(json.example)).not.toThrow();
      }
    }
    expect(() => schemaById.get('Error')!.parse(examples.error)).not.toThrow();
  });

  it('documents the error envelope on every operation', () => {
    for (const { op } of operations) {
      expect(op.responses['4XX']?.content?.['application/json']?.schema?.$ref).toBe(
        '#/components/schemas/Error',
      );
    }
  });

  it('generates TypeScript types (openapi-typescript) that a client can use', async () => {
    const types = astToString(await openapiTS(structuredClone(document) as never));
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-openapi-'));
    writeFileSync(path.join(dir, 'api.d.ts'), types);
    writeFileSync(
      path.join(dir, 'client.ts'),
      `import type { paths, components } from './api.js';
type Token = paths['/v1/connections/{id}/token']['get']['responses'][200]['content']['application/json'];
const token: Token = { accessToken: 'a', tokenType: 'Bearer', expiresAt: '2026-01-01T00:00:00Z', scopes: [], extras: {} };
type Status = components['schemas']['ConnectSessionStatus']['status'];
const status: Status = 'awaiting_finalize';
type Query = NonNullable<paths['/v1/connections']['get']['parameters']['query']>;
const query: Query = { tenantId: 'acme', limit: 10 };
type Run = components['schemas']['SyncRun'];
const run: Pick<Run, 'status'> = { status: 'succeeded' };
// @ts-expect-error a status the API never answers
const wrong: Status = 'done';
export { token, status, query, run, wrong };
`,
    );
    const program = ts.createProgram([path.join(dir, 'client.ts')], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      types: [],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 30_000);
});
