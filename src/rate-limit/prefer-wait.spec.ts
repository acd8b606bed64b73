import { describe, expect, it } from '@jest/globals';
import {
  MAX_PREFER_WAIT_MS,
  parsePreferWait,
  retryAfterSeconds,
  withoutWaitPreference,
} from './prefer-wait.js';

describe('parsePreferWait (RFC 7240 §4.3)', () => {
  it('reads wait=<seconds> among other preferences and parameters', () => {
    expect(parsePreferWait('wait=3')).toBe(3_000);
    expect(parsePreferWait('respond-async, wait=5')).toBe(5_000);
    expect(parsePreferWait('return=minimal; foo=bar, WAIT = "2"')).toBe(2_000);
    expect(parsePreferWait(['handling=lenient', 'wait=1'])).toBe(1_000);
    expect(parsePreferWait('wait=0')).toBe(0);
  });

  it('caps the wait', () => {
    expect(parsePreferWait('wait=3600')).toBe(MAX_PREFER_WAIT_MS);
    expect(parsePreferWait('wait=8', 5_000)).toBe(5_000);
  });

  it('no preference, or an unreadable one: answer at once', () => {
    expect(parsePreferWait(undefined)).toBe(0);
    expect(parsePreferWait('')).toBe(0);
    expect(parsePreferWait('wait=soon')).toBe(0);
    expect(parsePreferWait('wait=-1')).toBe(0);
    expect(parsePreferWait('respond-async')).toBe(0);
  });
});

describe('retryAfterSeconds', () => {
  it('whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1_000)).toBe(1);
    expect(retryAfterSeconds(1_001)).toBe(2);
    expect(retryAfterSeconds(9_500)).toBe(10);
  });
});

describe('withoutWaitPreference', () => {
  it('drops wait, keeps the rest', () => {
    expect(withoutWaitPreference('wait=5')).toBeUndefined();
    expect(withoutWaitPreference('odata.maxpagesize=500, wait=5')).toBe('odata.maxpagesize=500');
    expect(withoutWaitPreference('return=minimal;x=y, Wait = 2, respond-async')).toBe(
      'return=minimal;x=y, respond-async',
    );
  });
});
