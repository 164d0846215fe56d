/** Plain counters the metrics part reads; plain fields so the hot path pays one add each. */
export class TransportStats {
  accepted = 0;
  rejectedFull = 0;
  framesIn = 0;
  /** Counted by Connection.write, where the bytes go out: every frame, whoever sent it. */
  framesOut = 0;
  badFrames = 0;
  /** ERROR and KICK frames not written because the connection is one-way (it never reads). */
  framesWithheld = 0;
  heartbeats = 0;
  logins = 0;
  loginFailures = 0;
  messages = 0;
}
