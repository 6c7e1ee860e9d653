import { pathToFileURL } from 'node:url';
import type { Registry } from 'prom-client';
import { wantsHelp } from '../lib/config.ts';
import { loadKubeAccess } from '../lib/kubeconfig.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { type Config, ConfigError, FLAGS, loadConfig } from './config.ts';
import { register as registerWebhookTrigger } from './controllers/webhooktrigger/index.ts';
import { register as registerWorkflow } from './controllers/workflow/index.ts';
import { Manager } from './runtime/manager.ts';
import type { ControllerManager } from './runtime/types.ts';

/** What each controller package exports from its index.ts. */
export type Register = (manager: ControllerManager, config: Config) => void | Promise<void>;

async function registerControllers(manager: ControllerManager, config: Config): Promise<void> {
  const controllers: Register[] = [registerWebhookTrigger, registerWorkflow];
  for (const register of controllers) await register(manager, config);
}

export interface StartOptions {
  log?: Logger;
  registry?: Registry;
  /** Default: exit the process (see ManagerOptions.onLeaderLost). */
  onLeaderLost?: (reason: string) => void;
  /** Default: the real controllers; tests may register others. */
  register?: Register;
}

/** Builds the manager from a configuration, registers the controllers and starts it. */
export async function startOperator(config: Config, opts: StartOptions = {}): Promise<Manager> {
  const log = opts.log ?? createLogger('hookgate-operator', config.logLevel);
  const manager = new Manager({
    kubeConfig: await loadKubeAccess(config.kubeconfig),
    log,
    registry: opts.registry,
    namespaces: config.namespaces,
    leaderElection: config.leaderElect && {
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationMs: config.leaseDuration,
      renewDeadlineMs: config.renewDeadline,
      retryPeriodMs: config.retryPeriod,
    },
    onLeaderLost: opts.onLeaderLost,
    // 0 means off on the command line.
    metricsPort: config.metricsPort || undefined,
    healthPort: config.healthPort || undefined,
  });
  await (opts.register ?? registerControllers)(manager, config);
  await manager.start();
  log.info(
    {
      identity: config.identity,
      namespaces: config.namespaces.length ? config.namespaces : 'all',
      leaderElect: config.leaderElect,
      ports: manager.ports,
    },
    'operator started',
  );
  return manager;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    console.log(FLAGS.usage());
    return;
  }
  let config: Config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`hookgate-operator: ${err.message}\n\n${FLAGS.usage()}`);
    process.exit(2);
  }
  const manager = await startOperator(config);
  manager.stopOnSignals();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`hookgate-operator: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
