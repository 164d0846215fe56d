import type { Framing } from './framing';

/**
 * Thrown by FrameDecoder.push() when a frame would exceed MAX_FRAME_BYTES.
 * The connection must answer `ERROR FRAME_TOO_LARGE` and close: there is no
 * way to resynchronise a byte stream after refusing to read a frame.
 */
export class FrameTooLargeException extends Error {
  override readonly name = 'FrameTooLargeException';

  /**
   * @param framing       framing of the offending connection (picks the message)
   * @param frameBytes    length framing: the size announced by the header;
   *                      line framing: the bytes seen so far without a newline
   *                      (the line's length when its '\n' was already seen)
   * @param maxFrameBytes the limit that was exceeded
   */
  constructor(
    readonly framing: Framing,
    readonly frameBytes: number,
    readonly maxFrameBytes: number,
  ) {
    super(
      framing === 'length'
        ? `frame of ${frameBytes} bytes exceeds MAX_FRAME_BYTES (${maxFrameBytes})`
        : `line of more than ${maxFrameBytes} bytes without a newline exceeds MAX_FRAME_BYTES (${maxFrameBytes})`,
    );
  }
}
