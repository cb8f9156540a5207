// Batch signing: one person confirms once (a company's month of invoices, a court's day of
// notices), and the job runner signs each document in turn with its own signature. Every item is
// marked in the transaction of its signature, so a retried job never signs a document twice; an
// item that fails keeps its reason and the others go on.
import { z } from 'zod';
import { enqueueJob } from '../../jobs/job.queue.js';
import { wakeJobRunners } from '../../jobs/job.runner.js';
import type { JobHandler } from '../../jobs/job.types.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, fromSigningError, notFound } from '../../server/errors.js';
import { SigningError } from '../../signing/index.js';
import { requireUser, type Actor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { principalOfSession } from '../auth/index.js';
import { getReadableDocument } from '../documents/index.js';
import { decideSealUse } from '../grants/index.js';
import { findSeal } from '../seals/index.js';
import * as repo from './signature-batch.repository.js';
import type { BatchInput } from './signature.schema.js';
import { refuseUse, signStoredDocument, type CheckedSeal, type SigningReuse } from './signature.service.js';

declare module '../../jobs/job.types.js' {
  interface JobPayloads {
    'signature.batch': { batchId: string };
  }
}

/** One run of the batch job signs for at most this long, then hands the rest to a fresh run. */
const RUN_BUDGET_MS = 40_000;
/**
 * Documents one run signs side by side: enough to keep the signing workers busy while the others
 * wait for the database, few enough to leave the database pool to requests.
 */
const CONCURRENT_DOCUMENTS = 6;

/**
 * The seal, read and decided once per run for all its documents (the early answer each document
 * would otherwise ask for again); undefined when it is not usable now, so that each document asks
 * for itself and fails with its own reason. Every document is decided again, and counted, under
 * lock in its own signing transaction.
 */
async function checkSealOnce(
  ctx: AppContext,
  q: { groupId: string; userId: string; spec: { sealId: string; category: string } },
): Promise<CheckedSeal | undefined> {
  const seal = await findSeal(ctx.db, { groupId: q.groupId, id: q.spec.sealId });
  if (!seal || seal.kind !== 'electronic') return undefined;
  const decision = await decideSealUse(ctx.db, {
    groupId: q.groupId,
    sealId: seal.id,
    userId: q.userId,
    category: q.spec.category,
    at: ctx.now(),
  });
  return decision.allowed ? seal : undefined;
}

export async function startBatch(ctx: AppContext, actor: Actor, input: BatchInput) {
  const { principal } = actor;
  const userId = requireUser(principal);
  if (!principal.sessionId)
    throw new AppError('forbidden', 'A batch is signed by a person in a session; an API key cannot sign.');
  const groupId = principal.groupId;
  const unique = [...new Set(input.documents)];
  if (unique.length !== input.documents.length)
    throw new AppError('validation_failed', 'A document is listed twice; each is signed once.', {
      errors: [{ field: 'body.documents', message: 'must not repeat a document' }],
    });
  for (const sha256 of unique) await getReadableDocument(ctx, actor, sha256);
  const seal = await findSeal(ctx.db, { groupId, id: input.sealId });
  if (!seal) throw notFound('seal_not_found', input.sealId);
  // The early answer; each document is decided again, and counted, in its own signing transaction.
  const decision = await decideSealUse(ctx.db, {
    groupId,
    sealId: seal.id,
    userId,
    category: input.category,
    at: ctx.now(),
  });
  if (!decision.allowed) refuseUse(decision, seal, principal);
  if (seal.kind !== 'electronic')
    throw new AppError(
      'seal_not_electronic',
      `${seal.name} is a ${seal.kind} seal; only an electronic seal signs documents.`,
    );
  const id = newId();
  const now = ctx.now();
  const spec = {
    sealId: seal.id,
    category: input.category,
    level: input.level,
    ...(input.appearance ? { appearance: input.appearance } : {}),
    ...(input.crossPage ? { crossPage: input.crossPage } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
  };
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertBatch(trx, {
      id,
      groupId,
      userId,
      sessionId: principal.sessionId!,
      sealId: seal.id,
      spec,
      documents: unique,
      at: now,
    });
    await enqueueJob(trx, { kind: 'signature.batch', groupId, runAt: now, payload: { batchId: id } });
    await recordAudit(trx, {
      groupId,
      actor,
      at: now,
      event: {
        action: 'signature.batch_started',
        target: { type: 'seal', id: seal.id },
        companyId: seal.companyId,
        changes: { batchId: id, documents: unique.length, category: input.category, level: input.level },
      },
    });
  });
  // The person watches the batch: this process's runner starts it now, not at its next poll.
  wakeJobRunners();
  return getBatch(ctx, actor, id);
}

export async function getBatch(ctx: AppContext, actor: Actor, id: string) {
  const batch = await repo.findBatch(ctx.db, { groupId: actor.principal.groupId, id });
  if (!batch || batch.userId !== actor.principal.id) throw notFound('signature_batch_not_found', id);
  const items = await repo.findItems(ctx.db, id);
  // Counted from the items, each marked in its own signature's transaction: the batch's row is
  // brought up to date when the batch ends, not once per document.
  const signed = items.filter((i) => i.status === 'signed').length;
  const failed = items.filter((i) => i.status === 'failed').length;
  return { ...batch, signed, failed, items };
}

const specSchema = z.object({
  sealId: z.string(),
  category: z.string(),
  level: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']),
  appearance: z.unknown().optional(),
  crossPage: z.unknown().optional(),
  reason: z.string().optional(),
});

export function batchJobHandlers(ctx: AppContext): JobHandler[] {
  const run: JobHandler<'signature.batch'> = {
    kind: 'signature.batch',
    payload: z.object({ batchId: z.string() }),
    timeoutMs: 55_000,
    async run(payload, job) {
      const groupId = job.groupId;
      if (!groupId) return { signed: 0, reason: 'no group' };
      const batch = await repo.findBatchForRun(ctx.db, payload.batchId);
      if (!batch || batch.status === 'done') return { signed: 0, reason: 'done' };
      const spec = specSchema.parse(batch.spec);
      const principal = batch.sessionId ? await principalOfSession(ctx, batch.sessionId) : null;
      const pending = await repo.findPendingItems(ctx.db, batch.id);
      if (!principal || principal.id !== batch.userId) {
        await repo.failPending(ctx.db, batch.id, {
          code: 'unauthenticated',
          detail: 'The session that confirmed the batch ended before this document was signed.',
          at: ctx.now(),
        });
        await repo.finishIfDone(ctx.db, batch.id, ctx.now());
        return { signed: 0, reason: 'session ended' };
      }
      const actor: Actor = { principal, ip: null, userAgent: null, requestId: null };
      const reuse: SigningReuse = {};
      const checkedSeal = await checkSealOnce(ctx, { groupId, userId: principal.id, spec });
      const started = Date.now();
      let signed = 0;
      let next = 0;
      let stopped = false;
      // Each document's turn to commit comes when the one before it has ended, signed or not.
      let previous: Promise<void> = Promise.resolve();
      const signItem = async (item: (typeof pending)[number]) => {
        const before = previous;
        let endTurn!: () => void;
        previous = new Promise<void>((resolve) => (endTurn = resolve));
        const inTurn = async <T>(transaction: () => Promise<T>): Promise<T> => {
          await before;
          try {
            return await transaction();
          } finally {
            endTurn();
          }
        };
        try {
          await signStoredDocument(
            ctx,
            actor,
            {
              documentSha256: item.documentSha256,
              sealId: spec.sealId,
              category: spec.category,
              level: spec.level,
              ...(spec.appearance ? { appearance: spec.appearance as never } : {}),
              ...(spec.crossPage ? { crossPage: spec.crossPage as never } : {}),
              ...(spec.reason ? { reason: spec.reason } : {}),
            },
            {
              reuse,
              inTurn,
              ...(checkedSeal ? { checkedSeal } : {}),
              alsoInTransaction: async (trx, made) => {
                // The item is marked with its signature, or neither happened.
                if (!(await repo.markSigned(trx, { batchId: batch.id, position: item.position, ...made })))
                  throw new Error('the batch item was already done');
              },
            },
          );
          signed++;
        } catch (caught) {
          const failure = caught instanceof SigningError ? fromSigningError(caught) : caught;
          const known = failure instanceof AppError;
          await repo.markFailed(ctx.db, {
            batchId: batch.id,
            position: item.position,
            code: known ? failure.code : 'internal_error',
            detail: known ? failure.message : 'Signing failed on the server; quote the batch id when you report it.',
            at: ctx.now(),
          });
        } finally {
          // Failed before its transaction (the document, the engine): the next one need not wait.
          endTurn();
        }
      };
      // A few documents side by side: their engine work runs on the signing workers while others
      // wait for the database. Each is still its own signature in its own transaction.
      const lane = async () => {
        while (next < pending.length) {
          if (job.signal.aborted || Date.now() - started > RUN_BUDGET_MS) {
            stopped = true;
            return;
          }
          await signItem(pending[next++]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENT_DOCUMENTS, pending.length) }, lane));
      if (stopped && next < pending.length) {
        await ctx.db
          .transaction()
          .execute((trx) => enqueueJob(trx, { kind: 'signature.batch', groupId, runAt: ctx.now(), payload }));
        return { signed, continued: true };
      }
      await repo.finishIfDone(ctx.db, batch.id, ctx.now());
      return { signed };
    },
  };
  return [run];
}
