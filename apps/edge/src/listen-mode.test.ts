import { describe, expect, it } from 'vitest';
import { listenModeFor } from './listen-mode.js';

describe('listenModeFor', () => {
  it('lets the kernel balance where Node has reusePort', () => {
    expect(listenModeFor('24.22.3')).toBe('reuse-port');
    expect(listenModeFor('23.1.0')).toBe('reuse-port');
    expect(listenModeFor('22.12.0')).toBe('reuse-port');
    expect(listenModeFor('26.0.0')).toBe('reuse-port');
  });

  it('shares one socket, with no hand-off, on older Nodes', () => {
    expect(listenModeFor('22.11.0')).toBe('shared-socket');
    expect(listenModeFor('23.0.0')).toBe('shared-socket');
    expect(listenModeFor('20.20.2')).toBe('shared-socket');
  });
});
