import { type Condition, ConditionType, Reason } from '../../api/v1alpha1/index.ts';

/** What one reconcile concluded, before it becomes the three kstatus conditions. */
export interface Summary {
  ready: boolean;
  reason: string;
  message: string;
  /** A configuration error: nothing changes until the spec or a dependency does. */
  stalled?: boolean;
  /** Still converging: waiting for something that happens by itself, or retrying an error. */
  reconciling?: boolean;
}

import { timestamp } from '../../lib/time.ts';

export { timestamp };

/** Sets one condition in place; `lastTransitionTime` moves only when status, reason or message do. */
export function setCondition(
  list: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const prev = list.find((c) => c.type === next.type);
  const unchanged =
    prev && prev.status === next.status && prev.reason === next.reason && prev.message === next.message;
  const cond: Condition = {
    ...next,
    lastTransitionTime: unchanged ? prev.lastTransitionTime : timestamp(now),
  };
  return prev ? list.map((c) => (c === prev ? cond : c)) : [...list, cond];
}

/** The Ready, Reconciling and Stalled conditions for a summary (kstatus). */
export function summarize(
  previous: readonly Condition[] | undefined,
  s: Summary,
  generation: number,
  now: Date,
): Condition[] {
  const flag = (on: boolean | undefined) => (on ? 'True' : 'False');
  const entries: Omit<Condition, 'lastTransitionTime'>[] = [
    { type: ConditionType.Ready, status: flag(s.ready), reason: s.reason, message: s.message },
    {
      type: ConditionType.Reconciling,
      status: flag(s.reconciling),
      reason: s.reason,
      message: s.reconciling ? s.message : '',
    },
    {
      type: ConditionType.Stalled,
      status: flag(s.stalled),
      reason: s.reason,
      message: s.stalled ? s.message : '',
    },
  ];
  let list = (previous ?? []).filter((c) => entries.some((e) => e.type === c.type));
  for (const e of entries) list = setCondition(list, { ...e, observedGeneration: generation }, now);
  return list;
}

export const findCondition = (list: readonly Condition[] | undefined, type: string) =>
  list?.find((c) => c.type === type);

export const isTrue = (list: readonly Condition[] | undefined, type: string) =>
  findCondition(list, type)?.status === 'True';

/**
 * A transient failure: Reconciling=True says why while Ready keeps its last verdict (a Ready
 * trigger keeps serving through an API hiccup; Unknown if there was none). Stalled=False: the
 * queue retries.
 */
export function markFailed(
  previous: readonly Condition[] | undefined,
  message: string,
  generation: number,
  now: Date,
): Condition[] {
  const reason = Reason.ReconcileFailed;
  let list = [...(previous ?? [])];
  if (!findCondition(list, ConditionType.Ready))
    list = setCondition(
      list,
      { type: ConditionType.Ready, status: 'Unknown', reason, message, observedGeneration: generation },
      now,
    );
  list = setCondition(
    list,
    { type: ConditionType.Reconciling, status: 'True', reason, message, observedGeneration: generation },
    now,
  );
  return setCondition(
    list,
    { type: ConditionType.Stalled, status: 'False', reason, message: '', observedGeneration: generation },
    now,
  );
}
