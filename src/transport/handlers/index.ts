export { FrameRouter } from './frame-router';
export { HeartHandler } from './heart.handler';
export { handleLogin } from './login.handler';
export { handleAck } from './ack.handler';
export { handleMsg } from './msg.handler';
export { handleBye } from './bye.handler';
