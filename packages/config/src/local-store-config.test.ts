import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEdgeConfig } from './roles.js';
import { kekFileEnv } from './fakes.js';

const base = { UPSTREAM_URL: 'http://127.0.0.1:8080', ...kekFileEnv() };

describe("the edge's local certificate store settings", () => {
  it('defaults to 256 MB under the working directory, as an absolute path', () => {
    expect(loadEdgeConfig(base).localStore).toEqual({ path: resolve('.certfleet/edge-store'), maxBytes: 256 * 1024 * 1024 });
  });
  it('takes EDGE_LOCAL_STORE_PATH and EDGE_LOCAL_STORE_MB, and 0 MB turns the store off', () => {
    expect(loadEdgeConfig({ ...base, EDGE_LOCAL_STORE_PATH: '/var/lib/certfleet/edge', EDGE_LOCAL_STORE_MB: '64' }).localStore).toEqual({
      path: '/var/lib/certfleet/edge',
      maxBytes: 64 * 1024 * 1024,
    });
    expect(loadEdgeConfig({ ...base, EDGE_LOCAL_STORE_MB: '0' }).localStore).toBeUndefined();
    expect(() => loadEdgeConfig({ ...base, EDGE_LOCAL_STORE_MB: 'lots' })).toThrow(
      /EDGE_LOCAL_STORE_MB must be a whole number of megabytes/,
    );
  });
});
