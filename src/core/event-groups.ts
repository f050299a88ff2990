/**
 * How events are stored: a change's events that show one prospect (a send's thread.created, message.created and
 * target.contacted) go in one row, a group, and an object they show more than once is written once in it. Each of
 * a first message's three events showed the whole prospect, thread and message: five copies of the prospect, two
 * of the message. One row a send instead of three or four costs about half as much to write (BENCHMARKS.md), and
 * a replay or a delivery puts every event back exactly as emitted, keys in place.
 */

export type Payload = Record<string, unknown>;

/** An event as emitted and replayed. */
export interface GroupedEvent {
  id: string;
  seq: number;
  type: string;
  timestamp: string;
  data: Payload;
}

/**
 * Where shared objects go back: `[index into shared, key]` or `[index, key, key inside it]`. The key holds null in
 * the stored object, so it keeps its place among the others.
 */
type Ref = [number, string] | [number, string, string];

interface StoredObject {
  value: Payload;
  refs?: Ref[];
}

/** A group as stored (JSON). */
export interface StoredGroup {
  shared?: StoredObject[];
  events: Array<Omit<GroupedEvent, 'data'> & StoredObject>;
}

/** At most this many events a group, so a delivery never decodes much to send one. */
const MAX_GROUP_EVENTS = 16;

const isObject = (value: unknown): value is Payload => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The prospect an event shows, beside its thread or inside it, when every slot shows the same object. */
function prospectShown(data: Payload): Payload | null {
  const slots = [data.prospect, isObject(data.thread) ? data.thread.prospect : undefined].filter(isObject);
  return slots.length > 0 && slots.every((s) => s === slots[0]) ? slots[0]! : null;
}

/** What groups a lead add's prospect.created events together, though each shows a prospect of its own. */
const PROSPECTS_CREATED: Payload = {};

/**
 * Splits one change's events, in order, into groups: consecutive events showing the same prospect object (callers
 * pass the one presented object for every slot of a send's events), or consecutive prospect.created events (a lead
 * add or an import makes a thousand at once: one row for each would be most of what the batch writes), at most
 * MAX_GROUP_EVENTS each. Any other event that shows no prospect is a group of its own.
 */
export function groupEvents<E extends { type: string; data: Payload }>(events: readonly E[]): E[][] {
  const groups: E[][] = [];
  let current: E[] = [];
  let prospect: Payload | null = null;
  for (const event of events) {
    const shown = event.type === 'prospect.created' ? PROSPECTS_CREATED : prospectShown(event.data);
    if (current.length === 0 || shown === null || shown !== prospect || current.length === MAX_GROUP_EVENTS) {
      if (current.length > 0) groups.push(current);
      current = [];
    }
    current.push(event);
    prospect = shown;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * A group as stored. Objects are shared by identity, not by content: an object found more than once, as a value of
 * an event's payload or as a value inside one, is written once in `shared`.
 */
export function encodeGroup(events: readonly GroupedEvent[]): StoredGroup {
  const uses = new Map<Payload, number>();
  const count = (value: Payload) => uses.set(value, (uses.get(value) ?? 0) + 1);
  const looked = new Set<Payload>();
  for (const { data } of events) {
    for (const key in data) {
      const value = data[key];
      if (!isObject(value)) continue;
      count(value);
      // What a shared object holds is counted once, however often the object is shown.
      if (looked.has(value)) continue;
      looked.add(value);
      for (const innerKey in value) {
        const inner = value[innerKey];
        if (isObject(inner)) count(inner);
      }
    }
  }
  const shared: Payload[] = [];
  const indexOf = new Map<Payload, number>();
  for (const [value, n] of uses) {
    if (n > 1) indexOf.set(value, shared.push(value) - 1);
  }

  /**
   * `object` with its shared values (and, `deep`, those of the values it keeps) set to null and referred to; the
   * object itself when it holds none.
   */
  const store = (object: Payload, deep: boolean): StoredObject => {
    let refs: Ref[] | undefined;
    let value: Payload | undefined;
    for (const key in object) {
      const v = object[key];
      if (!isObject(v)) continue;
      const index = indexOf.get(v);
      if (index !== undefined) {
        (refs ??= []).push([index, key]);
        (value ??= { ...object })[key] = null;
      } else if (deep) {
        const inner = store(v, false);
        if (!inner.refs) continue;
        for (const [i, innerKey] of inner.refs) (refs ??= []).push([i, key, innerKey]);
        (value ??= { ...object })[key] = inner.value;
      }
    }
    return refs ? { value: value!, refs } : { value: object };
  };

  const stored: StoredGroup = { events: events.map(({ data, ...event }) => ({ ...event, ...store(data, true) })) };
  if (shared.length > 0) stored.shared = shared.map((value) => store(value, false));
  return stored;
}

/** The events of a stored group, as emitted. */
export function decodeGroup(group: StoredGroup): GroupedEvent[] {
  const resolved: Payload[] = [];
  const sharedObject = (index: number): Payload => (resolved[index] ??= restore(group.shared![index]!));
  const restore = ({ value, refs }: StoredObject): Payload => {
    if (!refs) return value;
    const out = { ...value };
    for (const [index, key, innerKey] of refs) {
      out[key] = innerKey === undefined ? sharedObject(index) : { ...(out[key] as Payload), [innerKey]: sharedObject(index) };
    }
    return out;
  };
  return group.events.map(({ value, refs, ...event }) => ({ ...event, data: restore({ value, refs }) }));
}
