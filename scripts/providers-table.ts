// Rewrites README.md's "Supported providers" table from the catalogue (npm run docs:providers).
import { readFile, writeFile } from 'node:fs/promises';
import * as prettier from 'prettier';
import { ProviderCatalogue } from '../src/providers/provider-catalogue.js';
import { renderProvidersTable, withProvidersTable } from '../src/providers/providers-readme.js';

const file = new URL('../README.md', import.meta.url);
const readme = await readFile(file, 'utf8');
const table = renderProvidersTable(new ProviderCatalogue().list());
const options = (await prettier.resolveConfig(file.pathname)) ?? {};
const next = await prettier.format(withProvidersTable(readme, table), {
  ...options,
  parser: 'markdown',
});
await writeFile(file, next);
process.stdout.write(next === readme ? 'README.md is up to date\n' : 'README.md updated\n');
