import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { errorMessage } from './kube.ts';

describe('errorMessage', () => {
  it('keeps only the Status message of an API error, never the body or headers', () => {
    const body = JSON.stringify({
      kind: 'Status',
      message: 'secrets "x" already exists',
      details: { data: 'c2VjcmV0' },
    });
    const err = new ApiException(409, 'Unsuccessful', body, { authorization: 'Bearer abc' });
    expect(errorMessage(err)).toBe('HTTP 409: secrets "x" already exists');
    expect(errorMessage(new ApiException(503, 'x', { message: 'etcd down' }, {}))).toBe(
      'HTTP 503: etcd down',
    );
    expect(errorMessage(new ApiException(502, 'x', '<html>bad gateway</html>', {}))).toBe('HTTP 502');
  });

  it('names network errors and never quotes what a JSON parser read', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(errorMessage(refused)).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:6443');
    let parseError: unknown;
    try {
      JSON.parse('{"token":"hgt_secret"');
    } catch (err) {
      parseError = err;
    }
    expect(errorMessage(parseError)).toBe('SyntaxError');
    expect(errorMessage(new TypeError('x is undefined'))).toBe('TypeError: x is undefined');
  });
});
