import { cmdBody, cmdFrameBytes, cmdJson } from '../../../src/protocol/cmd-frame';

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';

describe('CMD frame in parts', () => {
  it.each([
    ['object data', { v: 1, list: [true, null], text: 'ü "q" \n' }],
    ['string data', 'just text'],
    ['no data', undefined],
    ['null data', null],
    ['zero', 0],
  ])('is byte for byte what JSON.stringify writes (%s)', (_what, data) => {
    const body = cmdBody('näme', data, 1_700_000_123_456);
    for (const key of ['type', 'code'] as const) {
      expect(cmdJson(key, ID, body)).toBe(JSON.stringify({ [key]: 'CMD', id: ID, name: 'näme', data, expiresAt: 1_700_000_123_456 }));
    }
  });

  it('counts UTF-8 bytes, not characters, for MAX_FRAME_BYTES', () => {
    const body = cmdBody('n', '€€€', 1);
    expect(cmdFrameBytes(body)).toBe(Buffer.byteLength(cmdJson('type', ID, body)));
    expect(cmdFrameBytes(body)).toBe(cmdJson('type', ID, body).length + 6);
  });
});
