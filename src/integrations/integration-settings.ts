import type { ProviderDefinition } from '../providers/provider-definition.js';

type Fail = (where: string, problem: string) => never;

/**
 * The values of a provider's settings for one integration: given, or the
 * default; each must match the setting's pattern, and unknown names are
 * refused (a typo would otherwise leave `{tenant}` in a URL).
 */
export function resolveSettings(
  provider: ProviderDefinition,
  given: Readonly<Record<string, string>> | undefined,
  where: string,
  fail: Fail,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(given ?? {})) {
    if (!provider.settings[name]) {
      const known = Object.keys(provider.settings).join(', ') || 'none';
      fail(`${where}.settings.${name}`, `is not a setting of "${provider.name}" (known: ${known})`);
    }
  }
  for (const [name, setting] of Object.entries(provider.settings)) {
    const value = given?.[name] ?? setting.default;
    if (value === undefined)
      fail(`${where}.settings.${name}`, `is required: ${setting.description}`);
    if (!new RegExp(`^(?:${setting.pattern})$`).test(value))
      fail(`${where}.settings.${name}`, `does not look like ${setting.description}`);
    values[name] = value!;
  }
  return values;
}

/** `{name}` in a URL replaced by the setting's value (URL-encoded); other braces are left alone. */
export function withSettings(
  url: string | undefined,
  values: Readonly<Record<string, string>>,
): string | undefined {
  if (!url) return url;
  return url.replace(/\{([a-zA-Z][A-Za-z0-9]*)\}/g, (whole, name: string) =>
    name in values ? encodeURIComponent(values[name]!) : whole,
  );
}
