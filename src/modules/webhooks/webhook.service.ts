import { newId } from '../../lib/ids.js';
import { sealSecret } from '../../lib/secrets.js';
import { newJobRows } from '../../jobs/job.queue.js';
import { publicEventTypes, type PublicEventType } from '../../outbox/events.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { encodeCursor } from '../../server/schemas.js';
import { scopeOf, type Actor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { findCompany } from '../companies/index.js';
import { checkEndpointUrl, UrlRefusedError } from './webhook.address.js';
import { deliveryJob, messageIdOf } from './webhook.messages.js';
import * as repo from './webhook.repository.js';
import { newSecret, secretContext } from './webhook.signature.js';

/** How long the secret a rotation replaces keeps signing beside the new one: time to deploy the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

/** The type of the event `POST …/test` sends; it is no public event and nobody subscribes to it. */
export const TEST_EVENT_TYPE = 'webhook.test';

function scope(actor: Actor): string[] {
  return scopeOf(actor.principal, 'webhooks.manage');
}

function present(ctx: AppContext, endpoint: repo.EndpointRecord) {
  const { companyPath: _path, previousSecretUntil, ...rest } = endpoint;
  return {
    ...rest,
    previousSecretValidUntil: previousSecretUntil && previousSecretUntil > ctx.now() ? previousSecretUntil : null,
  };
}

function checkUrl(ctx: AppContext, url: string): string {
  try {
    return checkEndpointUrl(url, { allowPrivate: ctx.config.webhooks.allowPrivate }).href;
  } catch (error) {
    if (!(error instanceof UrlRefusedError)) throw error;
    throw new AppError('webhook_url_refused', `The webhook URL ${error.message}.`, {
      errors: [{ field: 'body.url', message: error.message }],
    });
  }
}

/** Subscribed types once each, in the catalogue's order. */
function normaliseTypes(types: PublicEventType[]): PublicEventType[] {
  return publicEventTypes.filter((t) => types.includes(t));
}

async function getEndpointRecord(ctx: AppContext, actor: Actor, endpointId: string) {
  const endpoint = await repo.findEndpoint(ctx.db, {
    groupId: actor.principal.groupId,
    id: endpointId,
    scope: scope(actor),
  });
  if (!endpoint) throw notFound('webhook_endpoint_not_found', endpointId);
  return endpoint;
}

/** The types an endpoint may subscribe to; asked by those who manage webhooks, like the rest. */
export function listEventTypes(actor: Actor) {
  scope(actor);
  return { items: [...publicEventTypes] };
}

export async function listEndpoints(ctx: AppContext, actor: Actor) {
  const rows = await repo.findEndpoints(ctx.db, { groupId: actor.principal.groupId, scope: scope(actor) });
  return rows.map((row) => present(ctx, row));
}

export async function getEndpoint(ctx: AppContext, actor: Actor, endpointId: string) {
  return present(ctx, await getEndpointRecord(ctx, actor, endpointId));
}

/**
 * Creates an endpoint for the events of a company's subtree the caller manages. The secret is
 * made here, sealed at rest, and shown in this answer only.
 */
export async function createEndpoint(
  ctx: AppContext,
  actor: Actor,
  input: { companyId: string; url: string; description: string; eventTypes: PublicEventType[]; enabled: boolean },
) {
  const { principal } = actor;
  const company = await findCompany(ctx.db, { groupId: principal.groupId, id: input.companyId, scope: scope(actor) });
  if (!company) throw notFound('company_not_found', input.companyId);
  const url = checkUrl(ctx, input.url);
  const id = newId();
  const secret = newSecret();
  const eventTypes = normaliseTypes(input.eventTypes);
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertEndpoint(trx, {
      id,
      groupId: principal.groupId,
      companyId: company.id,
      url,
      description: input.description,
      eventTypes,
      enabled: input.enabled,
      secretSealed: sealSecret(ctx.masterKey, secret.key, secretContext(id)),
      createdBy: principal.id,
      at,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'webhook.endpoint_created',
        target: { type: 'webhook_endpoint', id },
        companyId: company.id,
        changes: { companyId: company.id, url, description: input.description, eventTypes, enabled: input.enabled },
      },
    });
  });
  return { endpoint: await getEndpoint(ctx, actor, id), secret: secret.text };
}

export async function updateEndpoint(
  ctx: AppContext,
  actor: Actor,
  endpointId: string,
  input: {
    url?: string | undefined;
    description?: string | undefined;
    eventTypes?: PublicEventType[] | undefined;
    enabled?: boolean | undefined;
  },
) {
  const { principal } = actor;
  await getEndpointRecord(ctx, actor, endpointId);
  const url = input.url === undefined ? undefined : checkUrl(ctx, input.url);
  const eventTypes = input.eventTypes && normaliseTypes(input.eventTypes);
  await ctx.db.transaction().execute(async (trx) => {
    // Read again under the row's lock: two changes at once are recorded one after the other, each against what it changed.
    const current = await repo.findEndpoint(
      trx,
      { groupId: principal.groupId, id: endpointId, scope: scope(actor) },
      { lock: true },
    );
    if (!current) throw notFound('webhook_endpoint_not_found', endpointId);
    const next = {
      url: url ?? current.url,
      description: input.description ?? current.description,
      eventTypes: eventTypes ?? current.eventTypes,
      enabled: input.enabled ?? current.enabled,
    };
    const from: Record<string, unknown> = {};
    const to: Record<string, unknown> = {};
    for (const key of Object.keys(next) as Array<keyof typeof next>) {
      if (JSON.stringify(next[key]) !== JSON.stringify(current[key])) {
        from[key] = current[key];
        to[key] = next[key];
      }
    }
    if (Object.keys(to).length === 0) return;
    const at = ctx.now();
    await repo.updateEndpoint(trx, endpointId, { ...next, at });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'webhook.endpoint_updated',
        target: { type: 'webhook_endpoint', id: endpointId },
        companyId: current.companyId,
        changes: { from, to },
      },
    });
  });
  return getEndpoint(ctx, actor, endpointId);
}

export async function deleteEndpoint(ctx: AppContext, actor: Actor, endpointId: string) {
  const { principal } = actor;
  await ctx.db.transaction().execute(async (trx) => {
    const endpoint = await repo.findEndpoint(
      trx,
      { groupId: principal.groupId, id: endpointId, scope: scope(actor) },
      { lock: true },
    );
    if (!endpoint) throw notFound('webhook_endpoint_not_found', endpointId);
    await repo.deleteEndpoint(trx, endpointId);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'webhook.endpoint_deleted',
        target: { type: 'webhook_endpoint', id: endpointId },
        companyId: endpoint.companyId,
        changes: { url: endpoint.url },
      },
    });
  });
}

/**
 * A new secret, shown once. The one it replaces keeps signing beside it for `ROTATION_OVERLAP_MS`,
 * so receivers can switch without missing a message; a secret older than that no longer signs
 * (a second rotation within the overlap drops the first secret at once).
 */
export async function rotateSecret(ctx: AppContext, actor: Actor, endpointId: string) {
  const { principal } = actor;
  const secret = newSecret();
  const at = ctx.now();
  const previousUntil = new Date(at.getTime() + ROTATION_OVERLAP_MS);
  await ctx.db.transaction().execute(async (trx) => {
    const endpoint = await repo.findEndpoint(
      trx,
      { groupId: principal.groupId, id: endpointId, scope: scope(actor) },
      { lock: true },
    );
    if (!endpoint) throw notFound('webhook_endpoint_not_found', endpointId);
    await repo.rotateSecret(trx, endpointId, {
      secretSealed: sealSecret(ctx.masterKey, secret.key, secretContext(endpointId)),
      previousUntil,
      at,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'webhook.secret_rotated',
        target: { type: 'webhook_endpoint', id: endpointId },
        companyId: endpoint.companyId,
        changes: { previousValidUntil: previousUntil.toISOString() },
      },
    });
  });
  return { endpoint: await getEndpoint(ctx, actor, endpointId), secret: secret.text };
}

export async function listDeliveries(
  ctx: AppContext,
  actor: Actor,
  endpointId: string,
  query: { limit: number; cursor?: { createdAt: string; id: string } | undefined },
) {
  await getEndpointRecord(ctx, actor, endpointId);
  const rows = await repo.findDeliveries(ctx.db, {
    groupId: actor.principal.groupId,
    endpointId,
    before: query.cursor ? { createdAt: new Date(query.cursor.createdAt), id: query.cursor.id } : undefined,
    limit: query.limit,
  });
  const last = rows.at(-1);
  return {
    items: rows,
    nextCursor:
      rows.length === query.limit && last
        ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id })
        : null,
  };
}

/**
 * Sends a delivery again, with the same `webhook-id` (receivers deduplicate on it) and a new
 * series of attempts. Only a delivered or dead one: while attempts remain, the next is already due.
 */
export async function redeliver(ctx: AppContext, actor: Actor, q: { endpointId: string; deliveryId: string }) {
  const { principal } = actor;
  const endpoint = await getEndpointRecord(ctx, actor, q.endpointId);
  if (!endpoint.enabled)
    throw new AppError('webhook_endpoint_disabled', 'The endpoint is disabled; enable it before redelivering to it.');
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    // Under the delivery's lock, so two redeliveries at once queue one series of attempts, not two.
    const delivery = await repo.findDelivery(
      trx,
      { groupId: principal.groupId, endpointId: q.endpointId, id: q.deliveryId },
      { lock: true },
    );
    if (!delivery) throw notFound('webhook_delivery_not_found', q.deliveryId);
    const [job] = newJobRows([deliveryJob({ groupId: principal.groupId, deliveryId: delivery.id, at })]);
    if (!(await repo.requeueDelivery(trx, { groupId: principal.groupId, id: delivery.id }, { at, job: job! })))
      throw new AppError(
        'webhook_delivery_pending',
        `The delivery is ${delivery.status} and its next attempt is already scheduled; redeliver it once it is delivered or dead.`,
      );
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'webhook.delivery_redelivered',
        target: { type: 'webhook_endpoint', id: q.endpointId },
        companyId: endpoint.companyId,
        changes: { deliveryId: delivery.id, messageId: delivery.messageId, eventType: delivery.eventType },
      },
    });
  });
  const delivery = await repo.findDelivery(ctx.db, {
    groupId: principal.groupId,
    endpointId: q.endpointId,
    id: q.deliveryId,
  });
  if (!delivery) throw notFound('webhook_delivery_not_found', q.deliveryId);
  return delivery;
}

/** Queues a `webhook.test` message to the endpoint, whatever it subscribes to: to check the receiver and its signature check. */
export async function sendTestEvent(ctx: AppContext, actor: Actor, endpointId: string) {
  const { principal } = actor;
  const endpoint = await getEndpointRecord(ctx, actor, endpointId);
  if (!endpoint.enabled)
    throw new AppError('webhook_endpoint_disabled', 'The endpoint is disabled; enable it before sending to it.');
  const at = ctx.now();
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertDeliveries(
      trx,
      [
        {
          id,
          groupId: principal.groupId,
          endpointId,
          messageId: messageIdOf(id),
          eventType: TEST_EVENT_TYPE,
          payload: {
            type: TEST_EVENT_TYPE,
            timestamp: at.toISOString(),
            data: { endpointId, companyId: endpoint.companyId },
          },
          at,
        },
      ],
      newJobRows([deliveryJob({ groupId: principal.groupId, deliveryId: id, at })]),
    );
  });
  const delivery = await repo.findDelivery(ctx.db, { groupId: principal.groupId, endpointId, id });
  if (!delivery) throw notFound('webhook_delivery_not_found', id);
  return delivery;
}
