// The fan-out: public events (outbox topic `event`) become one delivery, and one job attempting
// it, per enabled endpoint that subscribes to the event's type over the event's company.
//
// Why this shape. The per-process OutboxReader hands every entry to every process and keeps its
// place in memory: enqueueing from it would send each event once per process, and nothing for
// entries committed while no process was reading. So the fan-out is a step of the job runner,
// which every process polls, and it works only on what it claims in the database: in one
// transaction it claims entries (`claimOutboxEntries`: a claim row per entry, so ids committed out
// of order are found too, and two processes never take the same entry) and writes the deliveries
// and their jobs. The claims commit with the deliveries or not at all: each event is fanned out
// exactly once, across restarts and any number of processes.
import { z } from 'zod';
import { newId } from '../../lib/ids.js';
import { newJobRows } from '../../jobs/job.queue.js';
import { EVENT_TOPIC, publicEventTypes } from '../../outbox/events.js';
import { claimOutboxEntries } from '../../outbox/outbox.js';
import type { AppContext } from '../../server/context.js';
import { deliveryJob, messageIdOf } from './webhook.messages.js';
import * as repo from './webhook.repository.js';

const CONSUMER = 'webhooks';
/** Entries per transaction, and transactions per poll: a burst is worked off over a few polls. */
const BATCH = 200;
const MAX_BATCHES = 10;

const storedEvent = z.object({
  type: z.enum(publicEventTypes),
  companyId: z.uuid(),
  at: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
});

/**
 * Claims the public events no fan-out has taken yet and writes their deliveries. An entry that is
 * not a public event (written past `emitEvents`) is claimed and skipped, so it cannot block the
 * ones after it, and reported by throwing once the rest is done.
 */
export async function fanOutEvents(ctx: AppContext): Promise<{ events: number; deliveries: number }> {
  let events = 0;
  let deliveries = 0;
  const malformed: number[] = [];
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const done = await ctx.db.transaction().execute(async (trx) => {
      const at = ctx.now();
      const entries = await claimOutboxEntries(trx, { consumer: CONSUMER, topic: EVENT_TOPIC, limit: BATCH, at });
      const parsed = new Map<number, { groupId: string; event: z.infer<typeof storedEvent> }>();
      for (const entry of entries) {
        const event = storedEvent.safeParse(entry.payload);
        if (event.success) parsed.set(entry.id, { groupId: entry.groupId, event: event.data });
        else malformed.push(entry.id);
      }
      const matches = await repo.findSubscribers(
        trx,
        [...parsed].map(([key, { groupId, event }]) => ({
          key,
          groupId,
          companyId: event.companyId,
          type: event.type,
        })),
      );
      const rows = matches.map(({ key, endpointId }) => {
        const { groupId, event } = parsed.get(key)!;
        const id = newId();
        return {
          id,
          groupId,
          endpointId,
          messageId: messageIdOf(id),
          eventType: event.type,
          // The body as Standard Webhooks suggests it: the type, when it happened, and its data.
          payload: { type: event.type, timestamp: event.at, data: { ...event.data, companyId: event.companyId } },
          at,
        };
      });
      await repo.insertDeliveries(
        trx,
        rows,
        newJobRows(rows.map((row) => deliveryJob({ groupId: row.groupId, deliveryId: row.id, at }))),
      );
      return { claimed: entries.length, deliveries: rows.length };
    });
    events += done.claimed;
    deliveries += done.deliveries;
    if (done.claimed < BATCH) break;
  }
  if (malformed.length > 0)
    throw new Error(`outbox entries ${malformed.join(', ')} of topic ${EVENT_TOPIC} are no public events; skipped`);
  return { events, deliveries };
}
