import { startBaseline, type Baseline } from '../../../bench/baseline-server';
import { LogHistogram } from '../../../bench/histogram';
import { Fleet } from '../../../bench/load/fleet';
import { ReplyReader, type ReplySink } from '../../../bench/load/reply-reader';
import { readCpuSeconds, readRssBytes } from '../../../bench/proc-stats';
import { encodeJson } from '../../../src/transport/codec';

// The benchmark (`npm run bench`) is not part of the test suite; this checks
// that its measuring parts measure, and that a tiny run of it works end to end.

describe('bench harness: LogHistogram', () => {
  it('reports percentiles within the bucket precision (~3%), exact min and max', () => {
    const h = new LogHistogram();
    for (let v = 1; v <= 10_000; v++) h.record(v * 1000); // 1 µs … 10 ms in ns
    expect(h.count).toBe(10_000);
    expect(h.min).toBe(1000);
    expect(h.max).toBe(10_000_000);
    expect(Math.abs(h.percentile(50) - 5_000_000) / 5_000_000).toBeLessThan(0.035);
    expect(Math.abs(h.percentile(99) - 9_900_000) / 9_900_000).toBeLessThan(0.035);
    expect(Math.abs(h.percentile(99.9) - 9_990_000) / 9_990_000).toBeLessThan(0.035);
    expect(h.percentile(100)).toBe(10_000_000);
  });

  it('merges across processes through its JSON form', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    for (let v = 0; v < 1000; v++) (v % 2 ? a : b).record(v * 7919);
    const merged = LogHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).merge(b.toJSON());
    const whole = new LogHistogram();
    for (let v = 0; v < 1000; v++) whole.record(v * 7919);
    expect(merged.toJSON()).toEqual(whole.toJSON());
    expect(new LogHistogram().percentile(50)).toBeNaN();
  });
});

describe('bench harness: /proc readers', () => {
  it('read this process: RSS as process.memoryUsage().rss, CPU as process.cpuUsage()', () => {
    const rss = readRssBytes(process.pid);
    expect(Math.abs(rss - process.memoryUsage().rss) / rss).toBeLessThan(0.2);
    // Burn ~100 ms of CPU so both clocks move by more than a tick (10 ms).
    const until = Date.now() + 100;
    while (Date.now() < until);
    const usage = process.cpuUsage();
    const own = (usage.user + usage.system) / 1e6;
    expect(Math.abs(readCpuSeconds(process.pid) - own)).toBeLessThan(0.05);
  });
});

describe('bench harness: ReplyReader', () => {
  it('finds the same frames however the stream is cut', () => {
    const stream = Buffer.concat([
      encodeJson('length', '{"type":"HEART","ok":true,"serverTime":1}'),
      encodeJson('length', '{"type":"CMD","id":"c1","name":"x"}'),
      Buffer.alloc(4),
      encodeJson('length', '{"type":"HEART","ok":true,"serverTime":2}'),
      encodeJson('length', '{"type":"HEART","serverTime":3}'),
    ]);
    const read = (chunkSize: number) => {
      const seen: string[] = [];
      const sink: ReplySink = {
        onHeartOk: () => seen.push('heart-ok'),
        onMessage: (m) => seen.push(`${String(m.type)}${m.ok === undefined ? '' : ':ok'}`),
        onEmptyFrame: () => seen.push('empty'),
        onBadFrame: (d) => seen.push(`bad ${d}`),
      };
      const reader = new ReplyReader();
      for (let i = 0; i < stream.length; i += chunkSize) reader.push(stream.subarray(i, i + chunkSize), sink);
      return seen;
    };
    const expected = ['heart-ok', 'CMD', 'empty', 'heart-ok', 'HEART'];
    expect(read(stream.length)).toEqual(expected);
    expect(read(1)).toEqual(expected);
    expect(read(7)).toEqual(expected);
  });
});

describe('bench harness: a micro-run against the baseline server', () => {
  let baseline: Baseline;
  const fleet = new Fleet();

  beforeAll(async () => {
    baseline = await startBaseline(0, 0);
  });
  afterAll(async () => {
    fleet.close();
    await baseline.close();
  });

  it('20 clients log in, 5 heartbeat rounds: 100 RTTs recorded, no errors', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `smoke-${i}`);
    expect(await fleet.connect({ host: '127.0.0.1', port: baseline.tcpPort, clientIds: ids })).toEqual({ loggedIn: 20, failed: 0 });
    for (let i = 0; i < 5; i++) expect(await fleet.heartRound(5000)).toBe(20);
    const stats = await fleet.collect(1000);
    expect(stats.sent).toBe(100);
    expect(stats.received).toBe(100);
    expect(stats.rtt.count).toBe(100);
    expect(stats.rtt.min).toBeGreaterThan(0);
    expect(stats.errors).toEqual(expect.objectContaining({ connect: 0, login: 0, errorFrames: 0, closed: 0, lost: 0, unexpected: 0 }));
  });
});
