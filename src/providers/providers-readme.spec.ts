import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import * as prettier from 'prettier';
import { ProviderCatalogue } from './provider-catalogue.js';
import { renderProvidersTable, withProvidersTable } from './providers-readme.js';

describe('README "Supported providers"', () => {
  it('is the table generated from the catalogue (run `npm run docs:providers` after a change)', async () => {
    const file = new URL('../../README.md', import.meta.url);
    const readme = await readFile(file, 'utf8');
    const table = renderProvidersTable(new ProviderCatalogue().list());
    const options = (await prettier.resolveConfig(file.pathname)) ?? {};
    const expected = await prettier.format(withProvidersTable(readme, table), {
      ...options,
      parser: 'markdown',
    });
    expect(readme).toBe(expected);
  });

  it('names every provider and its quirks', () => {
    const catalogue = new ProviderCatalogue();
    const table = renderProvidersTable(catalogue.list());
    for (const provider of catalogue.list()) {
      expect(table).toContain(`\`${provider.name}\``);
      for (const quirk of provider.quirks) expect(table).toContain(quirk);
    }
  });
});
