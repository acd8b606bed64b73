// `node --import ./test/support/ts-loader/register.mjs src/main.ts`: runs the
// TypeScript sources directly (SWC, same settings as Jest), so tests can start
// real broker processes (and kill them) without a build step.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
