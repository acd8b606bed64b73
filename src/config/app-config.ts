import type { Secret } from '../common/secret.js';
import type { EncryptionKey } from './encryption-keys.js';

export type Role = 'api' | 'worker' | 'all';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The typed configuration of one process, parsed once at start from the
 * environment. The rest of the code reads this, never `process.env`.
 */
export abstract class AppConfig {
  abstract readonly role: Role;
  abstract readonly http: {
    readonly host: string;
    readonly port: number;
    /** The broker's external base URL, without a trailing slash. */
    readonly publicUrl: string;
  };
  abstract readonly databaseUrl: Secret;
  abstract readonly redis: { readonly url: Secret; readonly prefix: string };
  abstract readonly encryptionKeys: readonly EncryptionKey[];
  abstract readonly integrationsFile: string;
  abstract readonly allowedReturnUrls: readonly URL[];
  abstract readonly webhook: { readonly url: string; readonly secret: Secret } | undefined;
  abstract readonly logLevel: LogLevel;
  abstract readonly allowInsecureLoopbackProviders: boolean;
  abstract readonly connect: {
    readonly sessionTtlSeconds: number;
    readonly flowTtlSeconds: number;
  };
  abstract readonly tokens: {
    readonly defaultMinValiditySeconds: number;
  };
  abstract readonly providerHttp: {
    readonly timeoutMs: number;
    readonly maxResponseBytes: number;
  };
}
