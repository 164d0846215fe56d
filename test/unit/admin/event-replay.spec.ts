import { EventReplay } from '../../../src/admin/event-replay';

describe('EventReplay (the SSE replay ring)', () => {
  const fill = (ring: EventReplay, n: number) => Array.from({ length: n }, (_, i) => ring.stamp('presence', { clientId: `c${i}` }));

  it('stamps increasing ids of this stream and replays what came after an id', () => {
    const ring = new EventReplay(4);
    const [a, b, c] = fill(ring, 3);
    expect([a.id, b.id, c.id]).toEqual([`${ring.stream}-1`, `${ring.stream}-2`, `${ring.stream}-3`]);
    expect(ring.since(a.id)).toEqual({ ok: true, events: [b, c] });
    expect(ring.since(c.id)).toEqual({ ok: true, events: [] });
    expect(ring.since(`${ring.stream}-0`)).toEqual({ ok: true, events: [a, b, c] });
  });

  it('keeps only the last `capacity` events: resuming from before them is a gap', () => {
    const ring = new EventReplay(3);
    const events = fill(ring, 10); // holds 8, 9, 10
    expect(ring.since(events[6].id)).toEqual({ ok: true, events: events.slice(7) }); // after 7: 8, 9, 10
    expect(ring.since(events[5].id)).toEqual({ ok: false, reason: 'replay_window_exceeded' }); // 7 was dropped
  });

  it('refuses ids of another run, from the future, or malformed', () => {
    const ring = new EventReplay(3);
    fill(ring, 2);
    for (const id of ['deadbeef-1', `${ring.stream}-3`, 'garbage', `${ring.stream}-x`, `${ring.stream}--1`]) {
      expect(ring.since(id)).toEqual({ ok: false, reason: 'unknown_event_id' });
    }
  });

  it('with capacity 0 replays nothing but knows when nothing was missed', () => {
    const ring = new EventReplay(0);
    const [a, b] = fill(ring, 2);
    expect(ring.since(b.id)).toEqual({ ok: true, events: [] });
    expect(ring.since(a.id)).toEqual({ ok: false, reason: 'replay_window_exceeded' });
  });
});
