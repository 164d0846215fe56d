import { Buffer } from 'node:buffer';
import { EMPTY_FRAME, encodeJson, encodeMessage } from '../../../src/transport/codec';

describe('encodeJson / encodeMessage', () => {
  it('length framing: uint32 BE byte count then the UTF-8 body', () => {
    const buf = encodeJson('length', '{"type":"HEART"}');
    expect(buf.readUInt32BE(0)).toBe(16);
    expect(buf.length).toBe(20);
    expect(buf.subarray(4).toString('utf8')).toBe('{"type":"HEART"}');
  });

  it.each([
    ['é', 2],
    ['😀', 4],
    ['日本', 6],
    ['a\u2028b', 5],
  ])('length header counts bytes, not characters, for %j', (text, bytes) => {
    const msg = { type: text };
    const json = JSON.stringify(msg);
    const buf = encodeMessage('length', msg);
    const n = json.length - text.length + bytes;
    expect(n).toBe(Buffer.byteLength(json));
    expect(buf.readUInt32BE(0)).toBe(n);
    expect(buf.length).toBe(4 + n);
    expect(JSON.parse(buf.subarray(4).toString('utf8'))).toEqual(msg);
  });

  it('line framing: the JSON text then \\n', () => {
    const buf = encodeMessage('line', { type: 'HEART', s: 'é😀\n' });
    const text = buf.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1); // the message's \n is escaped
    expect(JSON.parse(text)).toEqual({ type: 'HEART', s: 'é😀\n' });
  });

  it('line framing refuses a JSON text with a raw newline (it would split the frame)', () => {
    expect(() => encodeJson('line', '{\n"type":"HEART"}')).toThrow(TypeError);
    // length framing doesn't care
    expect(encodeJson('length', '{\n"a":1}').readUInt32BE(0)).toBe(8);
  });

  it('EMPTY_FRAME is 4 zero bytes', () => {
    expect([...EMPTY_FRAME]).toEqual([0, 0, 0, 0]);
  });

  it('encodes an empty JSON text as a zero-length frame', () => {
    expect(encodeJson('length', '')).toEqual(EMPTY_FRAME);
  });
});
