import { readEnvFile } from '../config/env-files.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` in string values with environment variables, after YAML
 * parsing so a value can never change the document's structure. A missing
 * variable is an error naming the field, never an empty secret. `NAME_FILE`
 * stands in for `NAME` (Docker secrets).
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  fail: (where: string, problem: string) => never,
  where = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, name: string) => {
      const replacement = env[name] || readEnvFile(env, name);
      if (replacement === undefined || replacement === '') {
        return fail(where, `environment variable ${name} is not set`);
      }
      return replacement;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => substituteEnv(item, env, fail, `${where}[${index}]`));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteEnv(item, env, fail, where ? `${where}.${key}` : key),
      ]),
    );
  }
  return value;
}
