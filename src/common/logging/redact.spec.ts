import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from './logger.js';
import { redact, scrubString } from './redact.js';

describe('redact', () => {
  it('replaces secret keys at any depth and in any case style', () => {
    const out = redact({
      connectionId: 'c-1',
      tokens: { access_token: 'AT', refreshToken: 'RT', 'Client-Secret': 'CS' },
      headers: { authorization: 'Bearer x', cookie: 'a=b' },
      list: [{ code: 'AUTHCODE', codeVerifier: 'V' }],
    });
    expect(JSON.stringify(out)).not.toMatch(/AT"|RT"|CS"|Bearer x|a=b|AUTHCODE|"V"/);
    expect(out).toMatchObject({ connectionId: 'c-1', tokens: { access_token: '[redacted]' } });
  });

  it('scrubs secrets inside strings: query parameters, bearer headers, JSON bodies, our key formats', () => {
    const text = scrubString(
      'GET /cb?code=abc123&state=s1 Authorization: Bearer eyJhbGciOi.x.y body {"refresh_token":"rt-9"} key tbk_AAAAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(text).not.toMatch(/abc123|s1|eyJhbGciOi|rt-9|AAAAAAAAAAAAAAAA/);
    expect(text).toContain('code=[redacted]');
  });

  it('keeps error type and redacts its message, stack and cause', () => {
    const error = new Error('refresh failed for refresh_token=rt-secret', {
      cause: { access_token: 'at-secret' },
    });
    const out = JSON.stringify(redact({ err: error }));
    expect(out).toContain('"type":"Error"');
    expect(out).not.toMatch(/rt-secret|at-secret/);
  });

  it('applies to everything the logger writes', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('info', sink);
    logger.info({ accessToken: 'AT-1', nested: { client_secret: 'CS-1' } }, 'got code=CODE-1');
    logger.error({ err: new Error('Bearer BEARER-1 rejected') }, 'failed');
    logger.warn('token %s', 'x?access_token=AT-2');
    const all = lines.join('');
    expect(lines).toHaveLength(3);
    expect(all).not.toMatch(/AT-1|CS-1|CODE-1|BEARER-1|AT-2/);
  });
});
