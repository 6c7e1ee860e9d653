import { z } from 'zod';
import { JsonObject, objectSchema, preserveUnknown, statusSchema } from './common.ts';

export const DEFAULT_INPUT_PATH = '/var/run/hookgate/input.json';

export const JobTemplate = z
  .object({
    metadata: z
      .object({
        labels: z
          .record(z.string(), z.string())
          .optional()
          .describe("Labels added to every run's Job, beside hookgate's own (hookgate.io/*)."),
        annotations: z
          .record(z.string(), z.string())
          .optional()
          .describe("Annotations added to every run's Job, beside hookgate's own (hookgate.io/*)."),
      })
      .strict()
      .optional()
      .describe("Labels and annotations of each run's Job."),
    spec: z
      .object({ template: JsonObject.describe('The pod template (batch/v1 JobSpec.template).') })
      .passthrough()
      .meta(preserveUnknown)
      .describe('A batch/v1 JobSpec. The operator checks it with a server-side dry run.'),
  })
  .strict()
  .describe('The Job each accepted delivery runs as (one Job per delivery, named after it).');

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
      .prefault({})
      .describe(
        "How the delivery's input reaches the run: a file from a Secret the ingress creates per run, owned by its Job.",
      ),
    inputSchema: JsonObject.optional().describe(
      'JSON Schema the input must satisfy; the ingress answers 422 otherwise.',
    ),
    concurrencyPolicy: z
      .enum(['Allow', 'Forbid', 'Replace'])
      .default('Allow')
      .describe(
        'What a delivery does while a run of this Workflow is active: Allow starts another run; Forbid ' +
          'answers 409 (run_active) and starts nothing; Replace deletes the active runs, then starts its own.',
      ),
    successfulRunsHistoryLimit: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(3)
      .describe('How many succeeded runs (Jobs) to keep; older ones are deleted, newest start first.'),
    failedRunsHistoryLimit: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(1)
      .describe('How many failed runs (Jobs) to keep; older ones are deleted, newest start first.'),
  })
  .strict()
  .describe('What a run is: its Job, how the input reaches it, and the concurrency and history policy.');

export const RunResult = z.enum(['Running', 'Succeeded', 'Failed']);

export const RunRef = z
  .object({
    name: z.string().describe("The run's Job, in the Workflow's namespace."),
    trigger: z.string().optional().describe('The WebhookTrigger whose delivery started it.'),
    deliveryId: z.string().optional().describe("The delivery's id (the sender's, or one hookgate derived)."),
    startTime: z.string().optional().describe('When the Job was created (RFC 3339).'),
    completionTime: z.string().optional().describe('When the Job finished (RFC 3339).'),
    result: RunResult.describe('Running, Succeeded or Failed.'),
    message: z.string().max(4096).optional().describe('Why it failed, from the Job.'),
  })
  .strict();

export const WorkflowStatus = statusSchema(
  {
    active: z.array(RunRef).max(1000).optional().describe('Runs still running, oldest first.'),
    recentRuns: z
      .array(RunRef)
      .max(100)
      .optional()
      .describe('Runs kept by the history limits, running and finished, newest first.'),
    lastRunTime: z.string().optional().describe('When the newest run was created (RFC 3339).'),
  },
  'What the operator observed: conditions and the runs.',
);

export const WorkflowSchema = objectSchema('Workflow', {
  spec: WorkflowSpec,
  status: WorkflowStatus.optional(),
});

export type WorkflowSpec = z.infer<typeof WorkflowSpec>;
export type WorkflowStatus = z.infer<typeof WorkflowStatus>;
export type RunRef = z.infer<typeof RunRef>;
export type Workflow = z.infer<typeof WorkflowSchema>;
