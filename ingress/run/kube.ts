import { errorMessage, isUnavailable, statusOf } from '../../lib/kube.ts';
import { ApiUnavailableError, JobRejectedError } from '../types.ts';

/** Maps a failed write to the errors the app answers with; others pass through (500). */
export function launchError(err: unknown): unknown {
  if (isUnavailable(err)) return new ApiUnavailableError(errorMessage(err), { cause: err });
  const code = statusOf(err);
  if (code === 400 || code === 403 || code === 422)
    return new JobRejectedError(errorMessage(err), { cause: err });
  return err;
}
