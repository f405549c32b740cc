import { describe, expect, it } from 'vitest';
import { parseLoadOutput } from './tls-load.js';

describe('parseLoadOutput', () => {
  it("reads the client's counts", () => {
    expect(parseLoadOutput('{"connections":1200,"resumed":1199,"ok":1200,"errors":3}\n')).toEqual({
      connections: 1200,
      resumed: 1199,
      ok: 1200,
      errors: 3,
    });
  });

  it('rejects output that is not JSON, quoting it', () => {
    expect(() => parseLoadOutput('Segmentation fault')).toThrow(/printed no JSON: "Segmentation fault"/);
  });

  it('rejects a missing or negative count, naming it', () => {
    expect(() => parseLoadOutput('{"connections":1,"resumed":0,"ok":1}')).toThrow(/no count "errors"/);
    expect(() => parseLoadOutput('{"connections":-1,"resumed":0,"ok":1,"errors":0}')).toThrow(/no count "connections"/);
  });
});
