// Batch signing: one person confirms once (a company's month of invoices, a court's day of
// notices), and the job runner signs each document with its own signature. Documents are signed
// side by side on the signing workers, then kept in groups, in the batch's order, one transaction
// per group (group commit): the seal, certificate and grant are checked once under lock for the
// group and its uses counted in one statement with its signatures. Every item is marked in the
// transaction of its signature, so a retried job never signs a document twice; an item that fails
// keeps its reason and the others go on.
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
import { checkReadableDocuments, type ReadableDocument } from '../documents/index.js';
import { decideSealUse } from '../grants/index.js';
import { findSeal } from '../seals/index.js';
import * as repo from './signature-batch.repository.js';
import type { BatchInput } from './signature.schema.js';
import {
  makeSignature,
  refuseUse,
  storeSignatureGroup,
  type CheckedSeal,
  type GroupOutcome,
  type SignatureDraft,
  type SigningReuse,
} from './signature.service.js';

declare module '../../jobs/job.types.js' {
  interface JobPayloads {
    'signature.batch': { batchId: string };
  }
}

/** One run of the batch job signs for at most this long, then hands the rest to a fresh run. */
const RUN_BUDGET_MS = 40_000;
/**
 * Documents one run signs side by side. A document waits on several hand-offs (its key operation
 * and time-stamp answered by the main thread, its blob written), so the signing workers stay busy
 * only with many under way: on 2 cores the bench signed 166-169 documents/s with 6, 199-210 with
 * 12, 198 with 16 and 187 with 24. Signing holds no database connection; each group's transaction
 * holds one.
 */
const CONCURRENT_DOCUMENTS = 12;
/** Signed documents kept in one transaction at most (whatever is ready in order, up to this many). */
const GROUP_MAX = 16;
/** Signed documents waiting to be kept at most: the lanes wait beyond it, so memory stays bounded. */
const AHEAD_MAX = CONCURRENT_DOCUMENTS + 2 * GROUP_MAX;
/**
 * Bytes of signed documents waiting to be kept at most (large PDFs): beyond it the lanes wait too,
 * while at least one is waiting to be kept.
 */
const AHEAD_BYTES_MAX = 256 * 1024 * 1024;

/** What a run knows of an item before its group's transaction: its signed draft, or why it failed. */
type Made = { draft: SignatureDraft } | { failure: { code: string; detail: string } };

function failureOf(caught: unknown): { code: string; detail: string } {
  const failure = caught instanceof SigningError ? fromSigningError(caught) : caught;
  return failure instanceof AppError
    ? { code: failure.code, detail: failure.message }
    : { code: 'internal_error', detail: 'Signing failed on the server; quote the batch id when you report it.' };
}

/**
 * The seal, read and decided once per run for all its documents (the early answer each document
 * would otherwise ask for again); undefined when it is not usable now, so that each document asks
 * for itself and fails with its own reason. Every document is decided again, and counted, under
 * lock in the transaction that keeps its signature (its group's).
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
  // Every document the person may read, checked at once; the first that is not answers as before.
  const readable = await checkReadableDocuments(ctx, actor, unique);
  for (const sha256 of unique) {
    const answer = readable.get(sha256);
    if (answer instanceof AppError) throw answer;
  }
  const seal = await findSeal(ctx.db, { groupId, id: input.sealId });
  if (!seal) throw notFound('seal_not_found', input.sealId);
  // The early answer; each document is decided again, and counted, under lock in its group's transaction.
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
      // Which documents the person may still read, for all of them at once (the rules of getReadableDocument).
      const documents = await checkReadableDocuments(
        ctx,
        actor,
        pending.map((item) => item.documentSha256),
        { formats: ['pdf', 'ofd'] },
      );
      const started = Date.now();
      let signed = 0;
      let next = 0;
      let committed = 0;
      let lanesEnded = false;
      let stopped = false;
      // The committer's own failure (the database gone): the lanes stop, and the job fails to be retried.
      let broken: { error: unknown } | undefined;
      const made: Array<Made | undefined> = pending.map(() => undefined);
      // Lanes and the committer wake each other when an item is made or a group is kept.
      let wake!: () => void;
      let changed = new Promise<void>((resolve) => (wake = resolve));
      const notify = () => {
        wake();
        changed = new Promise<void>((resolve) => (wake = resolve));
      };
      /** Bytes of the signed documents made and not yet kept (at most AHEAD_MAX of them). */
      const aheadBytes = () => {
        let bytes = 0;
        for (let i = committed; i < next; i++) {
          const m = made[i];
          if (m && 'draft' in m) bytes += m.draft.bytes.byteLength;
        }
        return bytes;
      };

      const makeItem = async (item: (typeof pending)[number]): Promise<Made> => {
        const document = documents.get(item.documentSha256);
        if (!document || document instanceof AppError) return { failure: failureOf(document) };
        try {
          const draft = await makeSignature(
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
            { reuse, document: document satisfies ReadableDocument, ...(checkedSeal ? { checkedSeal } : {}) },
          );
          return { draft };
        } catch (caught) {
          return { failure: failureOf(caught) };
        }
      };

      // A few documents side by side: their engine work runs on the signing workers while the
      // committer keeps those already signed.
      const lane = async () => {
        while (next < pending.length) {
          if (broken) return;
          if (job.signal.aborted || Date.now() - started > RUN_BUDGET_MS) {
            stopped = true;
            return;
          }
          if (next - committed >= AHEAD_MAX || (aheadBytes() > AHEAD_BYTES_MAX && next > committed)) {
            await changed;
            continue;
          }
          const index = next++;
          made[index] = await makeItem(pending[index]!);
          notify();
        }
      };

      /**
       * Keeps a group in one transaction. An item whose check under lock fails is marked with its
       * reason in the same statement; a failure of the transaction itself (the seal suspended, the
       * certificate revoked, the database) marks every item of the group failed with it, nothing
       * of the group kept or counted, and the batch goes on with the next group.
       */
      const commitGroup = async (from: number, to: number) => {
        const entries = pending.slice(from, to).map((item, k) => ({ item, made: made[from + k]! }));
        const early: repo.ItemOutcome[] = [];
        const drafts: Array<{ position: number; draft: SignatureDraft }> = [];
        for (const { item, made: m } of entries) {
          if ('draft' in m) drafts.push({ position: item.position, draft: m.draft });
          else early.push({ position: item.position, status: 'failed', ...m.failure, at: ctx.now() });
        }
        if (drafts.length === 0) {
          await repo.itemsDoneUpdate(ctx.db, batch.id, early).execute();
          return;
        }
        const outcomeRow = (position: number, outcome: GroupOutcome): repo.ItemOutcome[] => {
          if (outcome.kind === 'signed')
            return [
              {
                position,
                status: 'signed',
                signatureId: outcome.signed.signatureId,
                outputSha256: outcome.signed.outputSha256,
                at: outcome.signed.signedAt,
              },
            ];
          if (outcome.kind === 'refused')
            return [
              { position, status: 'failed', code: outcome.error.code, detail: outcome.error.message, at: ctx.now() },
            ];
          return [];
        };
        try {
          const outcomes = await storeSignatureGroup(
            ctx,
            actor,
            drafts.map((d) => d.draft),
            {
              claim: async (trx) => {
                const open = await repo.lockPendingItems(trx, {
                  batchId: batch.id,
                  positions: drafts.map((d) => d.position),
                });
                return drafts.map((d) => open.has(d.position));
              },
              writes: (trx, outcomes) => {
                const rows = [...early, ...drafts.flatMap((d, i) => outcomeRow(d.position, outcomes[i]!))];
                return rows.length > 0 ? [repo.itemsDoneUpdate(trx, batch.id, rows)] : [];
              },
            },
          );
          signed += outcomes.filter((o) => o.kind === 'signed').length;
        } catch (caught) {
          const failure = failureOf(caught);
          await repo
            .itemsDoneUpdate(ctx.db, batch.id, [
              ...early,
              ...drafts.map((d) => ({ position: d.position, status: 'failed' as const, ...failure, at: ctx.now() })),
            ])
            .execute();
        }
      };

      // Keeps what is ready in the batch's order: a grant's last uses go to the first documents.
      const committer = async () => {
        while (committed < pending.length) {
          if (made[committed] === undefined) {
            if (lanesEnded) return;
            await changed;
            continue;
          }
          let end = committed;
          while (end < pending.length && end - committed < GROUP_MAX && made[end] !== undefined) end++;
          const from = committed;
          await commitGroup(from, end);
          for (let i = from; i < end; i++) made[i] = undefined;
          committed = end;
          notify();
        }
      };

      const keeping = committer().catch((error: unknown) => {
        broken = { error };
        notify();
      });
      await Promise.all(Array.from({ length: Math.min(CONCURRENT_DOCUMENTS, pending.length) }, lane));
      lanesEnded = true;
      notify();
      await keeping;
      if (broken) throw broken.error;
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
