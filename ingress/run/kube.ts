import { errorMessage, isRefused, isUnavailable } from '../../lib/kube.ts';
import { ApiUnavailableError, JobRejectedError } from '../types.ts';

/** Maps a failed write to the errors the app answers with; others pass through (500). */
export function launchError(err: unknown): unknown {
  if (isUnavailable(err)) return new ApiUnavailableError(errorMessage(err), { cause: err });
  if (isRefused(err)) return new JobRejectedError(errorMessage(err), { cause: err });
  return err;
}
