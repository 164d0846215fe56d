/**
 * How frames are delimited on one connection (docs/PROTOCOL.md §1):
 * - 'length': uint32 big-endian byte count, then that many bytes of UTF-8 JSON;
 * - 'line':   UTF-8 JSON terminated by '\n' ('\r\n' accepted).
 */
export type Framing = 'length' | 'line';

/**
 * Picks the framing from the first byte a client ever sends.
 *
 * A JSON object line starts with '{' or JSON whitespace, while a length
 * header's first byte is 0x00 for every frame below 16 MiB, so the two can't
 * be confused for any frame we accept.
 */
export function detectFraming(firstByte: number): Framing {
  switch (firstByte) {
    case 0x7b: // '{'
    case 0x20: // space
    case 0x09: // tab
    case 0x0d: // CR
    case 0x0a: // LF
      return 'line';
    default:
      return 'length';
  }
}
