import type { BlockList } from 'node:net';
import type { AnsweredName, Route } from '../../api/v1alpha1/index.ts';
import type { BodyBudget } from '../body-budget.ts';
import type { FloodGuard } from '../flood-guard.ts';
import type { SecretCaptures } from '../handshakes/capture.ts';
import type { InputSchemas } from '../input.ts';
import type { IngressMetrics } from '../metrics.ts';
import type { RateLimiter } from '../ratelimit.ts';
import type { Launcher, RouteTable } from '../types.ts';
import type { Identities } from '../verify/identity.ts';

/** What the stages of the request path share, built once per app. */
export interface StageContext {
  routes: RouteTable;
  launcher: Launcher;
  metrics: IngressMetrics;
  clock: () => number;
  proxies: BlockList | undefined;
  limiter: Pick<RateLimiter, 'take'>;
  /** This replica's share of a trigger's rate limit (peers.ts); the whole limit when alone. */
  share: (limit: number) => number;
  flood: FloodGuard;
  bodies: BodyBudget;
  schemas: InputSchemas;
  recordUse?: (route: Route) => void;
  identities: Identities;
  /** An SNS subscription's state changed (shown in the trigger's status). */
  recordSns?: (route: Route, sns: { topic: string; state: string }) => void;
  /** Called once per handshake answered (the trigger's status shows it). */
  recordHandshake?: (route: Route, name: AnsweredName) => void;
  /** Where a secret captured from a handshake (Asana) is stored for the operator. */
  captures: SecretCaptures;
}
