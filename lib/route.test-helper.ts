import { type Route, RouteSchema } from '../api/v1alpha1/index.ts';

/** The route the operator publishes for trigger team-a/`name`, bound to Workflow `build` of `workflowSpec`. */
export const testRoute = (workflowSpec: Record<string, unknown>, name = 'deploy'): Route =>
  RouteSchema.parse({
    namespace: 'team-a',
    name,
    uid: 'trigger-uid',
    generation: 1,
    path: `/hooks/team-a/${name}`,
    suspended: false,
    auth: { tokens: [{ value: 'hgt_x' }] },
    rateLimit: { requests: 30, periodSeconds: 60 },
    maxBodyBytes: 1024,
    input: { query: true },
    response: { mode: 'async', timeoutSeconds: 30 },
    workflow: { name: 'build', uid: 'workflow-uid', spec: workflowSpec },
  });
