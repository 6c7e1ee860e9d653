// Identity senders on the local cluster. Their example manifests turn Ready under the real operator
// (keys parsed, CEL compiled, presets resolved). AWS SNS end to end: the operator and the ingress as processes under the chart's RBAC, a loopback
// https stand-in for SNS (a CA of the test's own, trusted by this ingress alone through the test
// harness) serving the signing certificate and receiving the confirmation GET. A subscription is
// confirmed without a Job, shown in the trigger's status, and a notification then runs.
import { sign as cryptoSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateHost,
  certificateHost,
  confirmsSnsSubscriptions,
} from '../ingress/outbound/tls.test-helper.ts';
import { canonicalString, type SnsMessage } from '../ingress/verify/sns.ts';
import { kubectl, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, triggerObject, waitForReady, workflowObject } from './objects.test-helper.ts';

const SNS_HOST = 'sns.eu-west-1.amazonaws.com';
const ns = useNamespace('sns');
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:builds';
let sns: CertificateHost;

beforeAll(async () => {
  sns = await certificateHost(SNS_HOST, 'sns.amazonaws.com', { other: confirmsSnsSubscriptions });
});
afterAll(async () => {
  await sns?.server.close();
});
// After the stand-in's: hooks run in order, and the ingress trusts its CA.
useHookgate('sns', () => ({
  standIns: { ca: [sns.ca.pem], hosts: { [SNS_HOST]: sns.server.port } },
  ingressArgs: [],
}));

async function get(kind: string, name: string) {
  const r = await kubectl(['get', kind, name, '-n', ns.name, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}
async function jobs(): Promise<string[]> {
  const r = await kubectl(['get', 'jobs', '-n', ns.name, '-o', 'jsonpath={.items[*].metadata.name}']);
  return r.stdout.split(' ').filter(Boolean);
}

function message(type: SnsMessage['Type']): string {
  const m = {
    Type: type,
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    Message:
      type === 'Notification' ? '{"build":"42"}' : `You have chosen to subscribe to the topic ${TOPIC}.`,
    ...(type === 'Notification'
      ? {}
      : {
          SubscribeURL: `https://${SNS_HOST}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=tok`,
          Token: 'tok',
        }),
    Timestamp: new Date().toISOString(),
    SignatureVersion: '2',
    SigningCertURL: `https://${SNS_HOST}/SimpleNotificationService-0123.pem`,
    Signature: '',
  } as SnsMessage;
  m.Signature = cryptoSign('sha256', Buffer.from(canonicalString(m)), sns.leaf.key).toString('base64');
  return JSON.stringify(m);
}

describe('an AWS SNS subscription', () => {
  it('is confirmed by fetching SubscribeURL, shown in status, and starts no Job; a notification then runs', async () => {
    await applyObjects(ns.name, [
      workflowObject('on-build'),
      triggerObject('builds', 'on-build', {
        spec: { auth: { provider: 'aws-sns', sns: { topicArns: [TOPIC] } } },
      }),
    ]);
    const url = (await waitForReady(ns.name, 'builds')).status!.url!;
    // The route reaches the ingress a moment after Ready.
    const post = (body: string) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=UTF-8' } });
    const confirmation = await waitFor(
      async () => {
        const res = await post(message('SubscriptionConfirmation'));
        return res.status !== 404 && res;
      },
      { what: 'the route' },
    );
    expect(confirmation.status).toBe(200);
    expect(await confirmation.json()).toEqual({ confirmed: true });
    expect(
      sns.server.requests.some(
        (u) => u.startsWith('/?Action=ConfirmSubscription') && u.includes('Token=tok'),
      ),
    ).toBe(true);
    const subscriptions = await waitFor(
      async () => (await get('webhooktrigger', 'builds'))?.status?.snsSubscriptions,
      { timeoutMs: 40_000, what: 'status.snsSubscriptions' },
    );
    expect(subscriptions).toEqual([
      { topicArn: TOPIC, state: 'Confirmed', lastTransitionTime: expect.any(String) },
    ]);
    expect(await jobs()).toEqual([]);

    const notification = await post(message('Notification'));
    expect(notification.status).toBe(202);
    const { run } = (await notification.json()) as { run: string };
    expect(await jobs()).toEqual([run]);
  });
});

const IDENTITY_EXAMPLES = [
  'discord',
  'sendgrid',
  'standard-webhooks-v1a',
  'aws-sns',
  'paypal',
  'google-pubsub',
  'github-actions-oidc',
  'entra',
];

describe('the identity senders’ examples', () => {
  it.each(IDENTITY_EXAMPLES)('examples/providers/%s.yaml applies as it is and turns Ready', async (name) => {
    const file = new URL(`../examples/providers/${name}.yaml`, import.meta.url);
    const r = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: readFileSync(file, 'utf8') });
    expect(r.stderr).toBe('');
    const ready = await waitFor(
      async () => {
        const t = await get('webhooktrigger', name);
        const c = t?.status?.conditions?.find((x: { type: string }) => x.type === 'Ready');
        return c?.status === 'True' ? c : c?.reason === 'InvalidSpec' ? c : undefined;
      },
      { timeoutMs: 60_000, what: `${name} Ready` },
    );
    expect(ready).toMatchObject({ status: 'True' });
  });
});
