import { describe, expect, it } from 'vitest';
import { kekFileEnv } from './fakes.js';
import { loadDashboardConfig, loadIssuerConfig } from './roles.js';
import { unknownVariableWarnings } from './unknown-variables.js';

const issuerEnv = { ACME_DIRECTORY_URL: 'https://ca.example/dir', ...kekFileEnv() };
const dashboardEnv = { DASHBOARD_TOKEN: 'a-viewer-token-of-16+' };

describe('fleet metrics settings', () => {
  it('names 100 hostnames at most by default, and as many as METRICS_PER_HOSTNAME_MAX says', () => {
    expect(loadIssuerConfig(issuerEnv).metricsPerHostnameMax).toBe(100);
    expect(loadDashboardConfig(dashboardEnv).metricsPerHostnameMax).toBe(100);
    expect(loadIssuerConfig({ ...issuerEnv, METRICS_PER_HOSTNAME_MAX: '0' }).metricsPerHostnameMax).toBe(0);
    expect(loadDashboardConfig({ ...dashboardEnv, METRICS_PER_HOSTNAME_MAX: '2500' }).metricsPerHostnameMax).toBe(2500);
  });

  it.each(['-1', '10001', 'abc', '1e3', ' 5', '99999999999999999999'])(
    'refuses METRICS_PER_HOSTNAME_MAX=%j, saying what it takes',
    (value) => {
      expect(() => loadIssuerConfig({ ...issuerEnv, METRICS_PER_HOSTNAME_MAX: value })).toThrow(
        /METRICS_PER_HOSTNAME_MAX must be a whole number of hostnames from 0 to 10000/,
      );
    },
  );

  it('serves no dashboard metrics unless DASHBOARD_METRICS_PORT is set, and then on loopback unless DASHBOARD_METRICS_BIND says', () => {
    expect(loadDashboardConfig(dashboardEnv).metricsPort).toBeUndefined();
    const config = loadDashboardConfig({ ...dashboardEnv, DASHBOARD_METRICS_PORT: '9465' });
    expect(config.metricsPort).toBe(9465);
    expect(config.metricsBindAddress).toBe('127.0.0.1');
    expect(loadDashboardConfig({ ...dashboardEnv, DASHBOARD_METRICS_BIND: '::' }).metricsBindAddress).toBe('::');
    expect(() => loadDashboardConfig({ ...dashboardEnv, DASHBOARD_METRICS_PORT: '70000' })).toThrow(/DASHBOARD_METRICS_PORT/);
    expect(() => loadDashboardConfig({ ...dashboardEnv, DASHBOARD_METRICS_BIND: 'localhost' })).toThrow(/DASHBOARD_METRICS_BIND/);
  });

  it('knows the new variables, so none of them is reported as unknown', () => {
    expect(unknownVariableWarnings({ DASHBOARD_METRICS_PORT: '1', DASHBOARD_METRICS_BIND: '::', METRICS_PER_HOSTNAME_MAX: '1' })).toEqual(
      [],
    );
  });
});
