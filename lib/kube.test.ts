import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.ts';
import {
  apiError,
  errorMessage,
  isConflict,
  isNotFound,
  isRefused,
  statusMessage,
  statusOf,
} from './kube.ts';

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

describe('reading an API error, one way for every kind of error', () => {
  const status = (message: string) =>
    JSON.stringify({ kind: 'Status', message, details: { data: 'c2VjcmV0' } });
  const ours = new ApiError(422, 'POST /apis/batch/v1/namespaces/a/jobs', status('spec.template: Required'));
  const theirs = new ApiException(422, 'Unsuccessful', status('spec.template: Required'), {});

  it('statusOf and statusMessage read our ApiError and client-node’s ApiException alike', () => {
    for (const err of [ours, theirs]) {
      expect(statusOf(err)).toBe(422);
      expect(statusMessage(err)).toBe('spec.template: Required');
      expect(isRefused(err)).toBe(true);
    }
    expect(statusOf(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect([400, 403, 404, 409, 500].map((c) => isRefused(new ApiError(c, 'x', '')))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(isNotFound(new ApiError(404, 'x', ''))).toBe(true);
    expect(isConflict(new ApiError(409, 'x', ''))).toBe(true);
  });

  it('apiError puts the action and the Status message in front, never the body, and stays readable', () => {
    const e = apiError('dry-run Job in a', theirs);
    expect(e.message).toBe('dry-run Job in a: HTTP 422: spec.template: Required');
    expect(e.message).not.toContain('c2VjcmV0');
    expect(statusOf(e)).toBe(422);
    expect(statusMessage(e)).toBe('spec.template: Required');
    const network = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(apiError('x', network)).toBe(network);
  });
});
