import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Observable, Subscription } from 'rxjs';
import type { CommandEvent } from '../commands/command.types';

/** How often the event-loop lag is sampled (ms). */
export const LAG_SAMPLE_MS = 100;

/** Seconds; from 1 ms (an idle loop) to 5 s (a stall that costs heartbeats). */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds; a device on a LAN acks in ms, one on a cellular link in seconds. */
const RTT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * prom-client's default process_* and nodejs_* metrics, and the event-loop
 * lag as a histogram: a timer asks for LAG_SAMPLE_MS and the lag is how much
 * later it ran. Unlike monitorEventLoopDelay (whose figures include its own
 * resolution: an idle loop read 10 ms) this reads ~0 when idle, and a
 * histogram accumulates, so nothing is reset by a scrape and any number of
 * scrapers see the same counts. Returns the function that stops the sampler.
 */
export function registerRuntimeMetrics(registry: Registry): () => void {
  collectDefaultMetrics({ register: registry });
  const lag = new Histogram({
    name: 'longlink_event_loop_lag_seconds',
    help: `How late a ${LAG_SAMPLE_MS} ms timer ran (event-loop lag)`,
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  let timer: NodeJS.Timeout | undefined;
  let expected = 0;
  const sample = () => {
    const now = performance.now();
    lag.observe(Math.max(0, now - expected) / 1000);
    expected = now + LAG_SAMPLE_MS;
    timer = setTimeout(sample, LAG_SAMPLE_MS).unref();
  };
  expected = performance.now() + LAG_SAMPLE_MS;
  timer = setTimeout(sample, LAG_SAMPLE_MS).unref();
  return () => clearTimeout(timer);
}

/**
 * Command round trip, from the CMD's first write (`sent`) to its ACK (`acked`
 * or `failed`), read off CommandService's own events: the service is not
 * touched. Only commands sent since this started are timed; the map holds
 * the commands in flight and forgets them when they finish or expire.
 */
export function registerCommandRtt(registry: Registry, events$: Observable<CommandEvent>): Subscription {
  const rtt = new Histogram({
    name: 'longlink_command_rtt_seconds',
    help: 'Command round trip: CMD written to ACK received, by outcome',
    labelNames: ['outcome'],
    buckets: RTT_BUCKETS,
    registers: [registry],
  });
  const sentAt = new Map<string, number>();
  return events$.subscribe((event) => {
    if (event.to === 'sent') {
      sentAt.set(event.id, event.at);
      return;
    }
    const at = sentAt.get(event.id);
    if (at === undefined) return;
    sentAt.delete(event.id);
    if (event.to === 'acked' || event.to === 'failed') rtt.observe({ outcome: event.to }, Math.max(0, event.at - at) / 1000);
  });
}
