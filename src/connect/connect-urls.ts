import type { AppConfig } from '../config/app-config.js';

/** The URLs the broker publishes, all under PUBLIC_URL. */
export function redirectUriFor(config: AppConfig, integrationKey: string): string {
  return `${config.http.publicUrl}/v1/oauth/callback/${encodeURIComponent(integrationKey)}`;
}

export function connectUrlFor(config: AppConfig, sessionToken: string): string {
  return `${config.http.publicUrl}/v1/connect?session=${encodeURIComponent(sessionToken)}`;
}

export const CALLBACK_PATH_PREFIX = '/v1/oauth/callback/';
