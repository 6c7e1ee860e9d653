import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { finishedAs, termination } from './launcher.ts';

describe('finishedAs and termination', () => {
  it('reads only terminal conditions', () => {
    const job = (type: string, s = 'True'): V1Job => ({ status: { conditions: [{ type, status: s }] } });
    expect(finishedAs(job('Complete'))).toBe('Succeeded');
    expect(finishedAs(job('Failed'))).toBe('Failed');
    expect(finishedAs(job('Failed', 'False'))).toBeUndefined();
    expect(finishedAs(job('SuccessCriteriaMet'))).toBeUndefined();
    expect(finishedAs({})).toBeUndefined();
  });

  it('prefers a failing container and leaves out an empty message', () => {
    const pod = (...states: [number, string?][]): V1Pod => ({
      status: {
        containerStatuses: states.map(([exitCode, message], i) => ({
          name: `c${i}`,
          state: { terminated: { exitCode, message } },
        })) as never,
      },
    });
    expect(termination([pod([0, 'ok'], [2, 'bad'])])).toEqual({ exitCode: 2, message: 'bad' });
    expect(termination([pod([0])])).toEqual({ exitCode: 0 });
    expect(termination([])).toEqual({});
  });

  it('reads the latest pod, with timestamps as listed (Date) or watched (string)', () => {
    const pod = (created: Date | string, exitCode: number): V1Pod => ({
      metadata: { creationTimestamp: created as Date },
      status: { containerStatuses: [{ name: 'c', state: { terminated: { exitCode } } }] as never },
    });
    expect(
      termination([
        pod(new Date('2026-01-01T00:00:05Z'), 1),
        pod('2026-01-01T00:00:09Z', 3),
        pod('2026-01-01T00:00:07Z', 2),
      ]),
    ).toEqual({ exitCode: 3 });
  });
});
