/** What a service key may do. */
export const ACTIONS = ['token', 'connect', 'manage', 'sync', 'proxy'] as const;
export type Action = (typeof ACTIONS)[number];

/** The authenticated internal service behind a request, with its grants. */
export interface Caller {
  keyId: string;
  name: string;
  /** Empty means every tenant. */
  tenants: readonly string[];
  /** Empty means every integration. */
  integrations: readonly string[];
  actions: readonly Action[];
  /** The HTTP request this caller made (for the audit trail). */
  requestId?: string;
}

export function canSeeTenant(caller: Caller, tenantId: string): boolean {
  return caller.tenants.length === 0 || caller.tenants.includes(tenantId);
}

export function canUseIntegration(caller: Caller, integrationKey: string): boolean {
  return caller.integrations.length === 0 || caller.integrations.includes(integrationKey);
}

export function canPerform(caller: Caller, action: Action): boolean {
  return caller.actions.includes(action);
}
