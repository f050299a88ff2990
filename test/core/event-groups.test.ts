import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGroup, encodeGroup, groupEvents, type GroupedEvent, type Payload } from '../../src/core/event-groups.js';

const event = (seq: number, data: Payload): GroupedEvent => ({ id: `e${seq}`, seq, type: 'target.contacted', timestamp: '2026-01-01T00:00:00.000Z', data });
/** Through JSON and back, as the store does. */
const stored = (events: GroupedEvent[]) => JSON.parse(JSON.stringify(encodeGroup(events)));
const asText = (events: GroupedEvent[]) => events.map((e) => JSON.stringify(e));

describe('event groups', () => {
  it('writes an object shown several times once, at any of the two depths, and gives every event back as emitted', () => {
    const prospect = { platformId: '7001', displayName: 'Ada' };
    const message = { id: 'm1', content: 'Hi' };
    const sent = { id: 't1', lastMessage: { id: 'm1' }, prospect, status: 'active' };
    const events = [
      event(1, { thread: { id: 't1', lastMessage: null, prospect, status: 'active' }, prospect }),
      event(2, { message, thread: sent }),
      event(3, { campaign: { id: 'c1' }, thread: sent, prospect, message, step: { rank: 1 } }),
    ];
    const group = stored(events);
    const text = JSON.stringify(group);
    for (const once of ['"displayName":"Ada"', '"content":"Hi"', '"lastMessage":{"id":"m1"}']) expect(text.split(once)).toHaveLength(2);
    expect(asText(decodeGroup(group))).toEqual(asText(events));
  });

  it('keeps a group without shared objects as it is', () => {
    const events = [event(1, { prospect: { platformId: '1' }, n: 2 })];
    expect(stored(events)).toEqual({ events: [{ id: 'e1', seq: 1, type: 'target.contacted', timestamp: '2026-01-01T00:00:00.000Z', value: events[0]!.data }] });
  });

  it('gives back any payloads exactly, keys in place, whatever they share', () => {
    const leaf = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.boolean());
    const plain = fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), leaf, { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(plain, { minLength: 1, maxLength: 4 }), fc.array(fc.array(fc.tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.nat(), fc.boolean()), { maxLength: 5 }), { minLength: 1, maxLength: 5 }), (pool, shapes) => {
        // Payloads whose values are objects from a common pool, beside leaves and inside fresh objects.
        const events = shapes.map((shape, i) => {
          const data: Payload = {};
          for (const [key, pick, nested] of shape) {
            const shared = pool[pick % pool.length]!;
            data[key] = nested ? { inner: shared, again: shared, n: pick } : shared;
          }
          return event(i + 1, data);
        });
        expect(asText(decodeGroup(stored(events)))).toEqual(asText(events));
      }),
    );
  });

  it('groups consecutive events that show the same prospect object, at most 16', () => {
    const ada = { platformId: '1' };
    const bob = { platformId: '2' };
    const events = [
      event(1, { thread: { prospect: ada }, prospect: ada }),
      event(2, { prospect: ada }),
      event(3, { tag: { id: 'x' } }),
      event(4, { prospect: bob }),
      event(5, { thread: { prospect: bob }, prospect: { ...bob } }),
      ...Array.from({ length: 18 }, (_, i) => event(6 + i, { prospect: bob })),
    ];
    expect(groupEvents(events).map((g) => g.map((e) => e.seq))).toEqual([
      [1, 2],
      [3],
      [4],
      [5],
      Array.from({ length: 16 }, (_, i) => 6 + i),
      [22, 23],
    ]);
  });

  it('groups consecutive prospect.created events, each of its own prospect, at most 16, and gives them back as emitted', () => {
    const created = (seq: number) => ({ ...event(seq, { prospect: { platformId: String(7000 + seq), username: `user${seq}` } }), type: 'prospect.created' });
    const events = [...Array.from({ length: 20 }, (_, i) => created(i + 1)), event(21, { tag: { id: 'x' } }), created(22)];
    const groups = groupEvents(events);
    expect(groups.map((g) => g.map((e) => e.seq))).toEqual([Array.from({ length: 16 }, (_, i) => i + 1), [17, 18, 19, 20], [21], [22]]);
    for (const group of groups) expect(asText(decodeGroup(stored(group)))).toEqual(asText(group));
  });
});
