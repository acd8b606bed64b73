import { describe, expect, it } from '@jest/globals';
import type { Integration } from '../integrations/integration.js';
import { idleSecondsFor } from './refresh.sweep.js';

describe('idle refresh', () => {
  it('stays within half a provider refresh-token idle lifetime', () => {
    const pipedrive = { refreshTokenIdleSeconds: 60 * 86_400 } as Integration;
    const unknown = {} as Integration;
    expect(idleSecondsFor(pipedrive, 86_400)).toBe(86_400);
    expect(idleSecondsFor(pipedrive, 45 * 86_400)).toBe(30 * 86_400);
    expect(idleSecondsFor(unknown, 45 * 86_400)).toBe(45 * 86_400);
  });
});
