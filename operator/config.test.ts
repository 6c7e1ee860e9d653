import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from './config.ts';

const base = ['--public-base-url', 'https://hooks.example.com/'];

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig(base, { POD_NAME: 'op-0' });
    expect(c).toEqual({
      publicBaseUrl: 'https://hooks.example.com',
      namespaces: [],
      ingressNamespace: 'hookgate-system',
      leaderElect: true,
      leaseNamespace: 'hookgate-system',
      leaseName: 'hookgate-operator-leader',
      leaseDuration: 15_000,
      renewDeadline: 10_000,
      retryPeriod: 2_000,
      metricsPort: 8080,
      healthPort: 8081,
      logLevel: 'info',
      kubeconfig: undefined,
      rotationGrace: 86_400_000,
      triggerWorkers: 32,
      identity: 'op-0',
    });
  });

  it.each([
    ['HOOKGATE_PUBLIC_BASE_URL', 'http://localhost:8080', { publicBaseUrl: 'http://localhost:8080' }],
    ['HOOKGATE_NAMESPACES', 'a, b', { namespaces: ['a', 'b'] }],
    ['HOOKGATE_LEADER_ELECT', 'false', { leaderElect: false }],
    ['HOOKGATE_METRICS_PORT', '9090', { metricsPort: 9090 }],
    ['HOOKGATE_ROTATION_GRACE', '1h30m', { rotationGrace: 5_400_000 }],
    ['POD_NAMESPACE', 'ops', { ingressNamespace: 'ops', leaseNamespace: 'ops' }],
  ])('reads %s from the environment', (name, value, want) => {
    expect(loadConfig(name === 'HOOKGATE_PUBLIC_BASE_URL' ? [] : base, { [name]: value })).toMatchObject(
      want,
    );
  });

  it('takes a flag over the environment', () => {
    const env = { HOOKGATE_METRICS_PORT: '9090', HOOKGATE_NAMESPACES: 'a, b' };
    expect(loadConfig([...base, '--metrics-port', '9191', '--namespaces', 'c'], env)).toMatchObject({
      metricsPort: 9191,
      namespaces: ['c'],
    });
  });

  it('names every bad value with its flag and env variable', () => {
    const run = () =>
      loadConfig(
        [
          ...[
            '--metrics-port',
            'x',
            '--rotation-grace',
            '1d',
            '--namespaces',
            'Bad_NS',
            '--leader-elect',
            'yes',
          ],
          ...['--trigger-workers', '0'],
        ],
        {},
      );
    expect(run).toThrow(ConfigError);
    const message = (() => {
      try {
        run();
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toMatch(/--public-base-url \(HOOKGATE_PUBLIC_BASE_URL\): is required/);
    expect(message).toMatch(/--metrics-port \(HOOKGATE_METRICS_PORT\): must be a port number/);
    expect(message).toMatch(/--rotation-grace \(HOOKGATE_ROTATION_GRACE\): must be a duration/);
    expect(message).toMatch(/--namespaces/);
    expect(message).toMatch(/--leader-elect/);
    expect(message).toMatch(/--trigger-workers/);
  });

  it('rejects unknown flags and unsafe leader timings', () => {
    expect(() => loadConfig([...base, '--nope', '1'], {})).toThrow(/Unknown option '--nope'/);
    expect(() => loadConfig([...base, '--renew-deadline', '20s'], {})).toThrow(
      /--renew-deadline .*shorter than --lease-duration/,
    );
    expect(() => loadConfig(['--public-base-url', 'ftp://x'], {})).toThrow(/--public-base-url/);
  });
});

describe('parseDuration', () => {
  it('reads Go durations', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('10')).toThrow(/invalid duration/);
  });
});
