import { runCli } from '../../src/cli/run-cli.js';

/** `npm run cli -- <argv>` in-process against `databaseUrl`, with what it printed. */
export async function cli(
  databaseUrl: string,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { DATABASE_URL: databaseUrl },
    { out: (line) => out.push(line), err: (line) => err.push(line) },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}
