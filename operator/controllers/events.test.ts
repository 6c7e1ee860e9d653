import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/v1alpha1/index.ts';
import { type EventRecorder, ReadyAnnouncer } from './events.ts';

const obj = {
  apiVersion: 'hookgate.io/v1alpha1',
  kind: 'WebhookTrigger',
  metadata: { namespace: 'ns', name: 't' },
};
const ready = { ready: true, reason: 'Succeeded', message: 'Serving' };
const missing = { ready: false, reason: 'WorkflowNotFound', message: 'Workflow wf not found' };
const readyCondition: Condition[] = [
  { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'Serving', lastTransitionTime: 'x' },
];

function announcer() {
  const recorded: string[] = [];
  const events: EventRecorder = { record: (_o, type, reason) => recorded.push(`${type} ${reason}`) };
  return { a: new ReadyAnnouncer(events), recorded };
}

describe('ReadyAnnouncer', () => {
  it('stays quiet when a new object turns Ready, and announces every change after that', () => {
    const { a, recorded } = announcer();
    a.announce(obj, undefined, ready);
    a.announce(obj, readyCondition, ready);
    expect(recorded).toEqual([]);
    a.announce(obj, readyCondition, missing);
    a.announce(obj, undefined, ready);
    expect(recorded).toEqual(['Warning WorkflowNotFound', 'Normal Succeeded']);
  });

  it('announces a first verdict that is not Ready', () => {
    const { a, recorded } = announcer();
    a.announce(obj, undefined, missing);
    a.announce(obj, undefined, missing);
    expect(recorded).toEqual(['Warning WorkflowNotFound']);
  });

  it('stays quiet for an object already Ready when this process first sees it (a restart)', () => {
    const { a, recorded } = announcer();
    a.announce(obj, readyCondition, ready);
    expect(recorded).toEqual([]);
  });
});
