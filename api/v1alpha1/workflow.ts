import { z } from 'zod';
import { Conditions, JsonObject, objectSchema, preserveUnknown, UNOBSERVED } from './common.ts';

export const DEFAULT_INPUT_PATH = '/var/run/hookgate/input.json';

export const JobTemplate = z
  .object({
    metadata: z
      .object({
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    spec: z
      .object({ template: JsonObject.describe('The pod template (batch/v1 JobSpec.template).') })
      .passthrough()
      .meta(preserveUnknown)
      .describe('A batch/v1 JobSpec. The operator checks it with a server-side dry run.'),
  })
  .strict();

export const WorkflowSpec = z
  .object({
    jobTemplate: JobTemplate,
    input: z
      .object({
        path: z
          .string()
          .regex(/^\/([^/\0]+\/)*[^/\0]+$/, 'must be an absolute file path')
          .max(1024)
          .default(DEFAULT_INPUT_PATH)
          .describe('Where the delivery input (mapped payload, JSON) is mounted in each container.'),
        containers: z
          .array(z.string().min(1).max(63))
          .max(32)
          .optional()
          .describe('Containers that receive the input file and HOOKGATE_* variables (default: all).'),
      })
      .strict()
      .prefault({}),
    inputSchema: JsonObject.optional().describe(
      'JSON Schema the input must satisfy; the ingress answers 422 otherwise.',
    ),
    concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Allow'),
    successfulRunsHistoryLimit: z.number().int().min(0).max(1000).default(3),
    failedRunsHistoryLimit: z.number().int().min(0).max(1000).default(1),
  })
  .strict();

export const RunResult = z.enum(['Running', 'Succeeded', 'Failed']);

export const RunRef = z
  .object({
    name: z.string(),
    trigger: z.string().optional(),
    deliveryId: z.string().optional(),
    startTime: z.string().optional(),
    completionTime: z.string().optional(),
    result: RunResult,
    message: z.string().max(4096).optional(),
  })
  .strict();

export const WorkflowStatus = z
  .object({
    observedGeneration: z.number().int().default(-1),
    conditions: Conditions.optional(),
    active: z.array(RunRef).max(1000).optional(),
    recentRuns: z.array(RunRef).max(100).optional(),
    lastRunTime: z.string().optional(),
  })
  .strict()
  .default(UNOBSERVED);

export const WorkflowSchema = objectSchema('Workflow', {
  spec: WorkflowSpec,
  status: WorkflowStatus.optional(),
});

export type WorkflowSpec = z.infer<typeof WorkflowSpec>;
export type WorkflowStatus = z.infer<typeof WorkflowStatus>;
export type RunRef = z.infer<typeof RunRef>;
export type Workflow = z.infer<typeof WorkflowSchema>;
