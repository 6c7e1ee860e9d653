import type { Route } from '../../api/v1alpha1/index.ts';
import { captureSecret } from '../../lib/capture.ts';
import {
  apiPath,
  isConflict,
  isUnavailable,
  KubeClient,
  metadataAccept,
  SECRETS,
  statusOf,
} from '../../lib/kube.ts';
import type { KubeAccess } from '../../lib/kubeconfig.ts';
import type { Logger } from '../../lib/log.ts';
import { HttpError, RETRY_AFTER_UNAVAILABLE } from '../http/errors.ts';
import { ApiUnavailableError } from '../types.ts';

/** Where the ingress leaves a secret captured from a handshake (lib/capture.ts). */
export interface SecretCaptures {
  /** Resolves once stored; throws an HttpError when a capture is already pending, else unavailable. */
  capture(route: Route, value: string): Promise<void>;
}

export const ALREADY_CAPTURED = () =>
  new HttpError(403, 'handshake_refused', 'a secret was already captured for this trigger');

/** For an ingress that was given nowhere to store captures (tests of other parts). */
export const NO_CAPTURES: SecretCaptures = {
  capture: async () => {
    throw new HttpError(503, 'api_unavailable', 'the secret cannot be stored right now; retry later', {
      'retry-after': RETRY_AFTER_UNAVAILABLE,
    });
  },
};

/**
 * Creates the capture Secret in the ingress's own namespace. Create, never update: the API
 * server's AlreadyExists makes a capture happen once across all replicas, until the operator has
 * taken it in.
 */
export class KubeCaptures implements SecretCaptures {
  private readonly api: KubeClient;

  constructor(
    kc: KubeAccess,
    private readonly namespace: string,
    private readonly log: Logger,
  ) {
    this.api = new KubeClient(kc);
  }

  async capture(route: Route, value: string): Promise<void> {
    try {
      await this.api.request({
        method: 'POST',
        path: apiPath({ ...SECRETS, namespace: this.namespace }),
        query: { fieldManager: 'hookgate-ingress' },
        accept: metadataAccept(),
        body: captureSecret(route, this.namespace, value),
      });
    } catch (err) {
      if (isConflict(err)) throw ALREADY_CAPTURED();
      const trigger = `${route.namespace}/${route.name}`;
      // Never the error's body or the value: only that it failed, and the status.
      this.log.warn({ trigger, status: statusOf(err) }, 'could not store a captured secret');
      if (isUnavailable(err)) throw new ApiUnavailableError('the capture could not be stored');
      throw new HttpError(503, 'api_unavailable', 'the secret cannot be stored right now; retry later', {
        'retry-after': RETRY_AFTER_UNAVAILABLE,
      });
    }
  }
}
