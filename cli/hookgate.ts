import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import {
  Annotations,
  CredentialKeys,
  extraCredentials,
  GROUP,
  Labels,
  resolveAuth,
  VERSION,
  WEBHOOK_TRIGGER,
  type WebhookTrigger,
} from '../api/v1alpha1/index.ts';
import { sign } from '../ingress/verify/index.ts';
import { isNotFound } from '../lib/kube.ts';

/** A failure the user can act on: printed without a stack, exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const HELP: Record<string, string> = {
  main: `hookgate: send and inspect webhook deliveries

Usage: hookgate <command> [options]

Commands:
  url <trigger>      print the trigger's public URL
  sign <trigger>     print the headers a sender sets for a body (for curl)
  send <trigger>     sign a body with the trigger's credentials and send it
  runs <workflow>    list recent runs of a workflow
  rotate <trigger>   rotate the trigger's generated credentials

Options for every command:
  -n, --namespace NS   namespace (default: the kubeconfig context's, else "default")
      --kubeconfig F   kubeconfig file (default: $KUBECONFIG or ~/.kube/config)
  -h, --help           help for a command`,
  url: `Usage: hookgate url <trigger> [--with-token] [-n NS]

Prints status.url of the WebhookTrigger. With --with-token, the URL a sender uses when the trigger
has a URL token (auth.urlToken): status.url and the token as one more path segment, read from the
Secret named by status.urlTokenRef. Treat that URL as a secret.`,
  sign: `Usage: hookgate sign <trigger> [--data JSON|@file] [-n NS]

Prints curl's arguments for the body, with the trigger's current credentials: one
"-H 'Name: value'" line per header (Content-Type, Authorization for bearer and Basic, signature
headers), then "--data '<body>'" where the body carries a secret (auth.bodySecret), and the URL
where it carries a token (auth.urlToken). The body defaults to {}.`,
  send: `Usage: hookgate send <trigger> [--data JSON|@file] [--url URL] [--id DELIVERY_ID] [-n NS]

Signs the body with the trigger's credentials, POSTs it to the trigger's URL (or --url) and prints
the status and the answer. Exit code 0 for a 2xx answer, 1 otherwise.`,
  runs: "Usage: hookgate runs <workflow> [-n NS]\n\nLists the workflow's runs (Jobs): name, trigger, status, start, duration.",
  rotate: `Usage: hookgate rotate <trigger> [--revoke] [-n NS]

Sets the ${Annotations.rotate} annotation. The operator generates new credentials and keeps the
previous ones valid for the grace period (default 24h). With --revoke (a leaked credential) it sets
${Annotations.revoke} instead: the new credentials replace the old ones at once, with no overlap.`,
};

interface Io {
  out: (line: string) => void;
  kubeConfig?: KubeConfig;
  fetch?: typeof fetch;
  now?: () => number;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      data: { type: 'string', short: 'd' },
      url: { type: 'string' },
      id: { type: 'string' },
      revoke: { type: 'boolean' },
      'with-token': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, target] = positionals;
  if (!command || !(command in HELP) || command === 'main') {
    io.out(HELP.main!);
    if (values.help || !command) return values.help ? 0 : 2;
    throw new CliError(`unknown command "${command}"`, 2);
  }
  if (values.help) {
    io.out(HELP[command]!);
    return 0;
  }
  if (!target) throw new CliError(`${command} needs a name\n\n${HELP[command]}`, 2);

  const kc = io.kubeConfig ?? loadKubeConfig(values.kubeconfig);
  const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const ref = { namespace, name: target };

  switch (command) {
    case 'url': {
      const trigger = await getTrigger(kc, ref);
      io.out(values['with-token'] ? await tokenUrl(kc, trigger) : urlOf(trigger));
      return 0;
    }
    case 'sign': {
      const body = await bodyOf(values.data);
      const req = await prepare(kc, ref, body, io.now?.() ?? Date.now(), values.id);
      for (const [k, v] of Object.entries(req.headers)) io.out(`-H '${k}: ${v}'`);
      if (req.body !== body) io.out(`--data '${req.body}'`);
      if (req.url !== urlOf(req.trigger)) io.out(req.url);
      return 0;
    }
    case 'send': {
      const req = await prepare(kc, ref, await bodyOf(values.data), io.now?.() ?? Date.now(), values.id);
      const res = await (io.fetch ?? fetch)(values.url ?? req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
      });
      io.out(`${res.status} ${res.statusText}`);
      io.out(await res.text());
      return res.ok ? 0 : 1;
    }
    case 'runs':
      for (const line of await runs(kc, ref)) io.out(line);
      return 0;
    case 'rotate': {
      const value = new Date(io.now?.() ?? Date.now()).toISOString();
      const annotation = values.revoke ? Annotations.revoke : Annotations.rotate;
      await kc
        .makeApiClient(CustomObjectsApi)
        .patchNamespacedCustomObject(
          {
            group: GROUP,
            version: VERSION,
            plural: WEBHOOK_TRIGGER.plural,
            namespace,
            name: target,
            body: { metadata: { annotations: { [annotation]: value } } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .catch(notFound(ref));
      io.out(
        values.revoke
          ? `revocation requested for ${namespace}/${target}; the current credentials stop working once new ones are generated`
          : `rotation requested for ${namespace}/${target}; previous credentials stay valid for the grace period`,
      );
      return 0;
    }
  }
  return 2;
}

interface Ref {
  namespace: string;
  name: string;
}

const notFound =
  (ref: Ref, kind = 'WebhookTrigger') =>
  (err: unknown) => {
    if (isNotFound(err)) throw new CliError(`${kind} ${ref.namespace}/${ref.name} not found`);
    throw err;
  };

/** The CLI uses client-node's typed APIs, so its full KubeConfig (exec plugins and all). */
function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

async function getTrigger(kc: KubeConfig, ref: Ref): Promise<WebhookTrigger> {
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: WEBHOOK_TRIGGER.plural, ...ref })
    .catch(notFound(ref))) as WebhookTrigger;
}

function urlOf(t: WebhookTrigger): string {
  if (!t.status?.url)
    throw new CliError(`${t.metadata.namespace}/${t.metadata.name} has no URL yet (is it Ready?)`);
  return t.status.url;
}

async function bodyOf(data: string | undefined): Promise<string> {
  const text =
    data === undefined ? '{}' : data.startsWith('@') ? await readFile(data.slice(1), 'utf8') : data;
  try {
    JSON.parse(text);
  } catch {
    throw new CliError('--data is not valid JSON', 2);
  }
  return text;
}

async function secretValue(kc: KubeConfig, namespace: string, name: string, key: string): Promise<string> {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ namespace, name })
    .catch(notFound({ namespace, name }, 'Secret'));
  const value = secret.data?.[key];
  if (!value) throw new CliError(`Secret ${namespace}/${name} has no key "${key}"`);
  return Buffer.from(value, 'base64').toString('utf8');
}

/** The URL with the trigger's URL token as its last segment (the token read from its Secret). */
async function tokenUrl(kc: KubeConfig, t: WebhookTrigger): Promise<string> {
  const ref = t.status?.urlTokenRef;
  const where = `${t.metadata.namespace}/${t.metadata.name}`;
  if (!t.spec.auth.urlToken && !ref) throw new CliError(`${where} has no URL token (auth.urlToken)`);
  if (!ref) throw new CliError(`${where} has no URL token yet (is it Ready?)`);
  const token = await secretValue(kc, t.metadata.namespace ?? '', ref.name, ref.key);
  return `${urlOf(t)}/${encodeURIComponent(token)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `value` at every match of a body-secret field path (`*`: each element, one made if there is none). */
function setField(node: unknown, segments: string[], value: string): unknown {
  const [head, ...rest] = segments;
  if (head === undefined) return value;
  if (head === '*') {
    const items = Array.isArray(node) && node.length > 0 ? node : [{}];
    return items.map((item) => setField(item, rest, value));
  }
  const obj = isObject(node) ? node : {};
  return { ...obj, [head]: setField(obj[head], rest, value) };
}

/**
 * What a sender sends for `body` with the trigger's current credentials: its headers (bearer,
 * Basic, signature), the body with its secret in place, and the URL with its token.
 */
async function prepare(kc: KubeConfig, ref: Ref, body: string, now: number, id?: string) {
  const trigger = await getTrigger(kc, ref);
  const { auth } = trigger.spec;
  const generated = trigger.status?.credentialsSecret;
  const credential = async (secretRef: { name: string; key: string } | undefined, key: string) => {
    if (secretRef) return secretValue(kc, ref.namespace, secretRef.name, secretRef.key);
    if (!generated) throw new CliError(`${ref.namespace}/${ref.name} has no credentials yet (is it Ready?)`);
    return secretValue(kc, ref.namespace, generated, key);
  };
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const resolved = resolveAuth(auth);
  const extra = extraCredentials(trigger.spec);
  if (resolved.bearer)
    headers.Authorization = `Bearer ${await credential(auth.bearer?.secretRef, CredentialKeys.token)}`;
  if (extra.basic) {
    const from = (key: string) =>
      credential(extra.basic?.secretRef && { name: extra.basic.secretRef.name, key }, key);
    const user = `${await from(CredentialKeys.username)}:${await from(CredentialKeys.password)}`;
    headers.Authorization = `Basic ${Buffer.from(user).toString('base64')}`;
  }
  if (extra.bodySecret) {
    const secret = await credential(extra.bodySecret.secretRef, CredentialKeys.bodySecret);
    body = JSON.stringify(setField(JSON.parse(body), extra.bodySecret.field.split('.'), secret));
  }
  if (resolved.verifier) {
    const secret = await credential(auth.signature?.secretRef, CredentialKeys.signingSecret);
    const signature = { verifier: resolved.verifier, secrets: [{ value: secret }] };
    const url = trigger.status?.url;
    const options = { ...(url ? { url } : {}), deliveryId: resolved.provider?.deliveryId };
    try {
      Object.assign(headers, sign(signature, secret, Buffer.from(body), now, id, options));
    } catch (err) {
      throw new CliError(`cannot sign for ${ref.namespace}/${ref.name}: ${(err as Error).message}`);
    }
  }
  const url = extra.urlToken ? await tokenUrl(kc, trigger) : urlOf(trigger);
  return { trigger, headers, body, url };
}

async function runs(kc: KubeConfig, ref: Ref): Promise<string[]> {
  const jobs = await kc.makeApiClient(BatchV1Api).listNamespacedJob({
    namespace: ref.namespace,
    labelSelector: `${Labels.workflow}=${ref.name}`,
  });
  const rows = jobs.items
    .sort((a, b) => +(b.metadata?.creationTimestamp ?? 0) - +(a.metadata?.creationTimestamp ?? 0))
    .map((job) => {
      const cond = job.status?.conditions?.find(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      const status = cond ? (cond.type === 'Complete' ? 'Succeeded' : 'Failed') : 'Running';
      const start = job.status?.startTime ?? job.metadata?.creationTimestamp;
      const end = job.status?.completionTime ?? cond?.lastTransitionTime;
      const duration = start && end ? `${Math.round((+new Date(end) - +new Date(start)) / 1000)}s` : '-';
      return [
        job.metadata?.name ?? '',
        job.metadata?.labels?.[Labels.trigger] ?? '-',
        status,
        start ? new Date(start).toISOString() : '-',
        duration,
      ];
    });
  return table([['RUN', 'TRIGGER', 'STATUS', 'STARTED', 'DURATION'], ...rows]);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('   ')
      .trimEnd(),
  );
}
