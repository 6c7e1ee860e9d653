import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApiUnavailableError, JobRejectedError } from '../types.ts';
import { launchError } from './kube.ts';

const apiError = (code: number) =>
  new ApiException(code, `HTTP ${code}`, { kind: 'Status', code, message: 'injected' }, {});

describe('launchError', () => {
  it('maps 5xx and 429 to ApiUnavailableError, 400, 403 and 422 to JobRejectedError, passes others', () => {
    for (const code of [500, 503, 429])
      expect(launchError(apiError(code))).toBeInstanceOf(ApiUnavailableError);
    // 403: RBAC or an admission policy refused the run.
    for (const code of [400, 403, 422]) expect(launchError(apiError(code))).toBeInstanceOf(JobRejectedError);
    const notFound = apiError(404);
    expect(launchError(notFound)).toBe(notFound);
  });
});
