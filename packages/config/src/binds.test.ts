import { describe, expect, it } from 'vitest';
import { loadDashboardConfig, loadEdgeConfig, loadIssuerConfig } from './roles.js';
import { kekFileEnv } from './fakes.js';

const edgeEnv = { UPSTREAM_URL: 'http://127.0.0.1:8080', ...kekFileEnv() };
const issuerEnv = { ACME_DIRECTORY_URL: 'https://ca.example/dir', ...kekFileEnv() };
const dashboardEnv = { DASHBOARD_TOKEN: 'a-viewer-token-of-16+' };

describe('metrics and dashboard listen on loopback unless told otherwise', () => {
  it('serves the edge metrics on 127.0.0.1, not on the public bind address', () => {
    const config = loadEdgeConfig({ ...edgeEnv, EDGE_BIND_ADDRESS: '0.0.0.0' });
    expect(config.bindAddress).toBe('0.0.0.0');
    expect(config.metricsBindAddress).toBe('127.0.0.1');
    expect(loadEdgeConfig({ ...edgeEnv, EDGE_METRICS_BIND: '0.0.0.0' }).metricsBindAddress).toBe('0.0.0.0');
  });

  it('refuses an EDGE_METRICS_BIND that is not an address', () => {
    expect(() => loadEdgeConfig({ ...edgeEnv, EDGE_METRICS_BIND: 'localhost' })).toThrow(
      'EDGE_METRICS_BIND must be an IPv4 or IPv6 address to listen on (e.g. 0.0.0.0 or ::), got "localhost"',
    );
  });

  it('serves the issuer metrics on 127.0.0.1 by default, ISSUER_METRICS_BIND when set', () => {
    expect(loadIssuerConfig(issuerEnv)).toMatchObject({ metricsBindAddress: '127.0.0.1', warnings: [] });
    expect(loadIssuerConfig({ ...issuerEnv, ISSUER_METRICS_BIND: '0.0.0.0' }).metricsBindAddress).toBe('0.0.0.0');
  });

  it('still reads ISSUER_METRICS_BIND_ADDRESS, with a warning to rename it', () => {
    const config = loadIssuerConfig({ ...issuerEnv, ISSUER_METRICS_BIND_ADDRESS: '0.0.0.0' });
    expect(config.metricsBindAddress).toBe('0.0.0.0');
    expect(config.warnings).toEqual([
      'ISSUER_METRICS_BIND_ADDRESS is deprecated: rename it to ISSUER_METRICS_BIND (same meaning; unset, it now defaults to 127.0.0.1)',
    ]);
  });

  it('binds the dashboard to 127.0.0.1 by default, DASHBOARD_BIND when set', () => {
    expect(loadDashboardConfig(dashboardEnv)).toMatchObject({ bindAddress: '127.0.0.1', adminToken: undefined, warnings: [] });
    expect(loadDashboardConfig({ ...dashboardEnv, DASHBOARD_BIND: '::' }).bindAddress).toBe('::');
  });

  it('still reads DASHBOARD_BIND_ADDRESS, with a warning; refuses it beside a different DASHBOARD_BIND', () => {
    const config = loadDashboardConfig({ ...dashboardEnv, DASHBOARD_BIND_ADDRESS: '0.0.0.0' });
    expect(config.bindAddress).toBe('0.0.0.0');
    expect(config.warnings).toEqual([
      'DASHBOARD_BIND_ADDRESS is deprecated: rename it to DASHBOARD_BIND (same meaning; unset, it now defaults to 127.0.0.1)',
    ]);
    expect(() => loadDashboardConfig({ ...dashboardEnv, DASHBOARD_BIND_ADDRESS: '0.0.0.0', DASHBOARD_BIND: '127.0.0.1' })).toThrow(
      'DASHBOARD_BIND_ADDRESS (deprecated) and DASHBOARD_BIND are both set, to different values: keep only DASHBOARD_BIND',
    );
  });
});

describe('dashboard tokens', () => {
  it('reads an admin token of its own', () => {
    expect(loadDashboardConfig({ ...dashboardEnv, DASHBOARD_ADMIN_TOKEN: 'an-admin-token-of-16+' }).adminToken).toBe(
      'an-admin-token-of-16+',
    );
  });

  it('refuses an admin token equal to the viewer token, or short, without showing it', () => {
    expect(() => loadDashboardConfig({ ...dashboardEnv, DASHBOARD_ADMIN_TOKEN: dashboardEnv.DASHBOARD_TOKEN })).toThrow(
      /^DASHBOARD_ADMIN_TOKEN is the same as DASHBOARD_TOKEN: give the admin a token of its own/,
    );
    expect(() => loadDashboardConfig({ ...dashboardEnv, DASHBOARD_ADMIN_TOKEN: 'hunter2' })).toThrow(
      'DASHBOARD_ADMIN_TOKEN must be a secret of at least 16 characters, got a value of 7 characters',
    );
  });
});
