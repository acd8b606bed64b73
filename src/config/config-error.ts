/** A start-up configuration problem; its message names the bad setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
