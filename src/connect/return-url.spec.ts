import { describe, expect, it } from '@jest/globals';
import { isAllowedReturnUrl } from './return-url.js';

const allowed = [
  new URL('https://app.example.com/integrations'),
  new URL('http://localhost:5173/'),
];

describe('isAllowedReturnUrl', () => {
  it.each([
    'https://app.example.com/integrations',
    'https://app.example.com/integrations/done?x=1',
    'http://localhost:5173/anything',
  ])('allows %s', (url) => expect(isAllowedReturnUrl(url, allowed)).toBe(true));

  it.each([
    'https://app.example.com/integrationsX',
    'https://app.example.com/other',
    'https://evil.example.com/integrations',
    'https://app.example.com.evil.com/integrations',
    'http://app.example.com/integrations',
    'https://app.example.com:444/integrations',
    'https://user:pw@app.example.com/integrations',
    'javascript:alert(1)',
    '//app.example.com/integrations',
    'not a url',
  ])('refuses %s', (url) => expect(isAllowedReturnUrl(url, allowed)).toBe(false));

  it('refuses everything when nothing is allowed', () => {
    expect(isAllowedReturnUrl('https://app.example.com/integrations', [])).toBe(false);
  });
});
