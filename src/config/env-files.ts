import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/**
 * The Docker-secrets convention: `NAME_FILE=/run/secrets/x` stands for
 * `NAME=<the file's content>`, so a secret never has to sit in the
 * environment (where `docker inspect` and crash reporters can read it).
 */
export function readEnvFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  if (env[name]) throw new ConfigError(`${name}: set ${name} or ${name}_FILE, not both`);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  // Files written by editors and `echo` end in a newline that is not part of the secret.
  const value = content.replace(/\r?\n$/, '');
  if (!value) throw new ConfigError(`${name}_FILE: ${file} is empty`);
  return value;
}

/** `env` with each of `names` taken from its `_FILE` variant where that is set. */
export function resolveEnvFiles(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
): NodeJS.ProcessEnv {
  const resolved = { ...env };
  for (const name of names) {
    const value = readEnvFile(env, name);
    if (value !== undefined) resolved[name] = value;
  }
  return resolved;
}
