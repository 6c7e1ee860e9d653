// Cache floods (issue 20, item 2): what a tenant can write must not fill either component. Both run
// as processes under the chart's RBAC and heap flags, watching every namespace; a tenant creates 150
// Jobs labelled as runs and 150 Secrets dressed as a trigger's credentials (labels, and a controller
// reference to a real trigger), each carrying 200 KiB of `hookgate.io/` annotations. Their resident
// sets are read from /proc before and after, and again after both restart under that load (their
// list pages then carry 60 MiB of it).
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { forgeFlood, kubeConfig, kubectl, processMemory, useHookgate, useNamespace } from './helpers.ts';
import { applyObjects, triggerObject, waitForReady, workflowObject } from './objects.test-helper.ts';

const tenant = useNamespace('tenant-flood');
const started = useHookgate('flood');
const core = kubeConfig().makeApiClient(CoreV1Api);
const COUNT = 150;

const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** The least RSS over a few seconds: what a process holds, not a collection it has yet to run. */
async function settledRss(pid: number): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    least = Math.min(least, (await processMemory(pid)).rss);
    await pause(500);
  }
  return least;
}

/** The chart's memory limits, in MiB. */
async function chartLimits(): Promise<{ operator: number; ingress: number }> {
  const values = parse(await readFile('charts/hookgate/values.yaml', 'utf8')) as Record<
    'operator' | 'ingress',
    { resources: { limits: { memory: string } } }
  >;
  const mib = (q: string) => Number(q.replace(/Mi$/, ''));
  return {
    operator: mib(values.operator.resources.limits.memory),
    ingress: mib(values.ingress.resources.limits.memory),
  };
}

it('150 forged runs and 150 forged credentials Secrets of 200 KiB grow neither component by 20 MiB; both restart under them within their limits', async () => {
  await applyObjects(tenant.name, [workflowObject('real'), triggerObject('real', 'real')]);
  const trigger = await waitForReady(tenant.name, 'real');
  const hg = started.hg;
  const pids = () => ({ operator: hg.operator.proc.child.pid!, ingress: hg.ingress.proc.child.pid! });
  const before = { operator: await settledRss(pids().operator), ingress: await settledRss(pids().ingress) };

  // Runs by their labels (the ingress caches every Job so labelled, the operator every Job naming a
  // Workflow), and credentials by their labels and owner.
  await forgeFlood(tenant.name, { name: 'real', uid: trigger.metadata.uid! }, COUNT);
  // The watches deliver in order: a trigger edited after the last of them is seen after them too.
  await kubectl(['annotate', '-n', tenant.name, 'webhooktrigger', 'real', 'seen=1']);
  await pause(3000);
  const after = { operator: await settledRss(pids().operator), ingress: await settledRss(pids().ingress) };
  console.log(
    `RSS with the flood: operator ${before.operator.toFixed(1)} -> ${after.operator.toFixed(1)} MiB, ` +
      `ingress ${before.ingress.toFixed(1)} -> ${after.ingress.toFixed(1)} MiB`,
  );
  expect(after.operator - before.operator).toBeLessThan(20);
  expect(after.ingress - before.ingress).toBeLessThan(20);

  // A restart under the flood: every list page now carries it.
  await hg.operator.stop();
  await hg.ingress.stop();
  await hg.startOperator();
  await hg.startIngress();
  const restarted = {
    operator: await processMemory(pids().operator),
    ingress: await processMemory(pids().ingress),
  };
  const settled = { operator: await settledRss(pids().operator), ingress: await settledRss(pids().ingress) };
  const limits = await chartLimits();
  console.log(
    `after a restart under the flood: operator peak ${restarted.operator.peak.toFixed(1)} MiB, settled ` +
      `${settled.operator.toFixed(1)} (limit ${limits.operator}); ingress peak ${restarted.ingress.peak.toFixed(1)} MiB, ` +
      `settled ${settled.ingress.toFixed(1)} (limit ${limits.ingress})`,
  );
  // A fresh process is not the long-running one it replaces: its settled size is printed, its
  // peak held to the chart's limit.
  expect(restarted.operator.peak).toBeLessThan(limits.operator);
  expect(restarted.ingress.peak).toBeLessThan(limits.ingress);
  // And the operator still serves the real trigger with its own credentials.
  const credentials = await core.readNamespacedSecret({ namespace: tenant.name, name: 'real-credentials' });
  expect(Buffer.from(credentials.data!.token!, 'base64').toString()).toMatch(/^hgt_/);
  await waitForReady(tenant.name, 'real');
}, 300_000);
