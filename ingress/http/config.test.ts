import { describe, expect, it } from 'vitest';
import { ConfigError, loadIngressConfig } from './config.ts';

describe('loadIngressConfig', () => {
  it('has defaults for everything; the namespace comes from the pod', () => {
    expect(loadIngressConfig([], { POD_NAMESPACE: 'hooks' })).toEqual({
      namespace: 'hooks',
      address: '0.0.0.0',
      port: 8080,
      metricsPort: 9090,
      trustedProxies: [],
      logLevel: 'info',
      requestTimeout: 30_000,
      keepAliveTimeout: 72_000,
      shutdownTimeout: 25_000,
      maxHeaderBytes: 16_384,
      floodLimit: 600,
      floodPeriod: 60_000,
      bodyBudget: 64 * 1024 * 1024,
      clientBodyBudget: 8 * 1024 * 1024,
    });
    expect(loadIngressConfig([], {}).namespace).toBe('hookgate-system');
  });

  it.each([
    ['HOOKGATE_NAMESPACE', 'hooks', { namespace: 'hooks' }],
    ['HOOKGATE_PORT', '8081', { port: 8081 }],
    ['HOOKGATE_METRICS_PORT', '0', { metricsPort: 0 }],
    ['HOOKGATE_LOG_LEVEL', 'debug', { logLevel: 'debug' }],
    ['HOOKGATE_TRUSTED_PROXIES', '10.0.0.0/8, fd00::/8', { trustedProxies: ['10.0.0.0/8', 'fd00::/8'] }],
    ['HOOKGATE_SHUTDOWN_TIMEOUT', '1m30s', { shutdownTimeout: 90_000 }],
  ])('reads %s from the environment', (name, value, want) => {
    expect(loadIngressConfig([], { [name]: value })).toMatchObject(want);
  });

  it('takes a flag over the environment', () => {
    const env = { HOOKGATE_PORT: '8080', HOOKGATE_FLOOD_LIMIT: '10', HOOKGATE_FLOOD_PERIOD: '1m' };
    const config = loadIngressConfig(
      ['--port=9000', '--shutdown-timeout', '1m30s', '--flood-limit=50', '--flood-period=10s'],
      env,
    );
    expect(config).toMatchObject({
      port: 9000,
      shutdownTimeout: 90_000,
      floodLimit: 50,
      floodPeriod: 10_000,
    });
  });

  it('names every bad value by flag and variable', () => {
    const bad = () =>
      loadIngressConfig(['--port=x', '--trusted-proxies=10.0.0.0/40', '--request-timeout=soon'], {});
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/--port \(HOOKGATE_PORT\)/);
    expect(bad).toThrow(
      /--trusted-proxies \(HOOKGATE_TRUSTED_PROXIES\): invalid trusted proxy "10.0.0.0\/40"/,
    );
    expect(bad).toThrow(/--request-timeout \(HOOKGATE_REQUEST_TIMEOUT\)/);
    expect(() => loadIngressConfig(['--nope=1'], {})).toThrow(ConfigError);
    expect(() => loadIngressConfig(['--flood-limit=0'], {})).toThrow(
      /--flood-limit \(HOOKGATE_FLOOD_LIMIT\)/,
    );
    expect(() => loadIngressConfig(['--flood-period=10ms'], {})).toThrow(/--flood-period/);
  });

  it('reads body budgets as quantities, and refuses a share that cannot hold the largest body', () => {
    const env = { HOOKGATE_BODY_BUDGET: '128Mi' };
    expect(loadIngressConfig(['--client-body-budget=2048Ki'], env)).toMatchObject({
      bodyBudget: 128 * 1024 * 1024,
      clientBodyBudget: 2 * 1024 * 1024,
    });
    expect(() => loadIngressConfig(['--client-body-budget=512Ki'], {})).toThrow(
      /--client-body-budget \(HOOKGATE_CLIENT_BODY_BUDGET\): at least 1Mi/,
    );
    expect(() => loadIngressConfig(['--body-budget=4Mi'], {})).toThrow(
      /--body-budget \(HOOKGATE_BODY_BUDGET\): must be at least --client-body-budget/,
    );
    expect(() => loadIngressConfig(['--body-budget=64MB'], {})).toThrow(/--body-budget/);
  });
});
