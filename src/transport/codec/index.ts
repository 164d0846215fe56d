export { detectFraming, type Framing } from './framing';
export { FrameTooLargeException } from './frame-too-large.exception';
export {
  FrameDecoder,
  type BadFrameCode,
  type FrameDecoderOptions,
  type FrameSink,
} from './frame-decoder';
export { EMPTY_FRAME, encodeJson, encodeMessage } from './frame-encoder';
export { autoCodec, BUILT_IN_CODECS, LONGLINK_CODEC, FramingCodec, lengthCodec, lineCodec, type Codec, type CodecOptions, type ConnectionCodec } from './codec';
