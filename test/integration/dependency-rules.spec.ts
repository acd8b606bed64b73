import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `npm run lint`'s dependency rules, run on a small tree written for the purpose. */
describe('dependency rules', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-depcruise-'));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cruise = (files: Record<string, string>) => {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } }),
    );
    return new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        path.join(root, 'node_modules/.bin/depcruise'),
        ['src', '--config', path.join(root, '.dependency-cruiser.cjs')],
        { cwd: dir },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
      );
    });
  };

  it("refuses a feature importing another feature's repository, and allows its façade", async () => {
    const refused = await cruise({
      'src/connections/connections.repository.ts': 'export const rows = 1;\n',
      'src/connections/connection-store.ts':
        "import { rows } from './connections.repository.js';\nexport const store = rows;\n",
      'src/refresh/refresh.sweep.ts':
        "import { rows } from '../connections/connections.repository.js';\nexport const due = rows;\n",
    });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(
      /a-repository-belongs-to-its-feature: src\/refresh\/refresh\.sweep\.ts → src\/connections\/connections\.repository\.ts/,
    );

    const allowed = await cruise({
      'src/refresh/refresh.sweep.ts':
        "import { store } from '../connections/connection-store.js';\nexport const due = store;\n",
    });
    expect(allowed.output).toMatch(/no dependency violations/);
    expect(allowed.code).toBe(0);
  }, 30_000);
});
