import { z } from 'zod';
import { objectSchema } from './common.ts';

/**
 * Written by the operator, one per namespace (named WORKFLOW_LISTING_NAME), read by the chart's
 * run-owners admission policy as its params: a policy reads no object but its params. A custom kind
 * rather than a ConfigMap: the API server keeps the informer of a built-in params kind stopped once
 * no binding uses it (kubernetes/kubernetes#130887), and tenants' `edit` role does not reach it.
 */
export const WorkflowListingSpec = z
  .object({
    workflows: z
      .record(z.string(), z.string().max(512))
      .default({})
      .describe(
        'One entry per live Workflow of the namespace: "uid=<uid>,serviceAccountName=<name>,automountServiceAccountToken=<bool>", what each of its runs carries.',
      ),
  })
  .strict()
  .describe('Written by the operator for the run-owners admission policy; not for people to edit.');

export const WorkflowListingSchema = objectSchema('WorkflowListing', { spec: WorkflowListingSpec });

export type WorkflowListingSpec = z.infer<typeof WorkflowListingSpec>;
export type WorkflowListing = z.infer<typeof WorkflowListingSchema>;
