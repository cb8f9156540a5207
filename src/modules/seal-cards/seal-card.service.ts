import { BlobCorruptError, BlobMissingError } from '../../blobs/blob-store.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { findEvents } from '../audit-views/index.js';
import { parseStoredChanges } from '../audit/index.js';
import type { Actor } from '../access/index.js';
import { countSealEvents, countSealGrants, findSealApplications } from './seal-card.repository.js';
import type { CardLanguage, SealCardDocument } from './seal-card.pdf.js';
import { sealImagePng } from '../seals/index.js';
import { findGrants } from '../grants/index.js';
import { getSeal } from '../seals/index.js';

/**
 * How much of each list one card shows (the newest first). With these a card stays within
 * roughly 150 A4 pages and a few hundred kB, and takes a few seconds at most to draw, however
 * long the seal's history; the card says where a cut list can be read in full.
 */
export const CARD_LIMITS = { grants: 1000, events: 1000, lifecycle: 200, uses: 1000 } as const;
export type CardLimits = { [K in keyof typeof CARD_LIMITS]: number };

/** Picks the card's language: `lang` when given, else the first zh or en in Accept-Language (by q), else Chinese. */
export function chooseCardLanguage(lang: CardLanguage | undefined, acceptLanguage: string | undefined): CardLanguage {
  if (lang) return lang;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((t) => t.q > 0 && (t.tag.startsWith('zh') || t.tag.startsWith('en')))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.tag.startsWith('en') ? 'en' : 'zh-CN';
}

/**
 * The seal file card (档案卡) as a PDF: every attribute, the impression, every grant, the
 * lifecycle applications, the uses and the audit history. Same access as the card itself
 * (`getSeal`: seals.read over the seal's company, else not found).
 */
export async function exportSealCard(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
  options: { lang: CardLanguage; limits?: CardLimits },
): Promise<{ pdf: Buffer; fileName: string }> {
  const { principal } = actor;
  const limits = options.limits ?? CARD_LIMITS;
  const seal = await getSeal(ctx, actor, sealId);
  const groupId = principal.groupId;
  const scope = [seal.companyPath];
  const [grants, grantTotal, events, eventTotal, lifecycle, uses] = await Promise.all([
    findGrants(ctx.db, { groupId, sealId, includeRevoked: true }),
    countSealGrants(ctx.db, { groupId, sealId }),
    findEvents(ctx.db, { groupId, scope, includeGroupWide: false, targetId: sealId, limit: limits.events }),
    countSealEvents(ctx.db, { groupId, sealId, scope }),
    findSealApplications(ctx.db, { groupId, sealId, purpose: 'lifecycle', limit: limits.lifecycle }),
    findSealApplications(ctx.db, { groupId, sealId, purpose: 'seal_use', limit: limits.uses }),
  ]);
  const card: SealCardDocument = {
    seal,
    image: seal.imageSha256 ? await readImage(ctx, groupId, seal.imageSha256) : null,
    grants: { items: grants.slice(0, limits.grants), total: grantTotal },
    events: {
      items: events.map((e) => ({
        seq: e.seq,
        occurredAt: e.occurred_at,
        action: e.action,
        actorName: e.actor_name,
        changes: parseStoredChanges(e).changes,
      })),
      total: eventTotal,
    },
    lifecycle,
    uses,
    generatedAt: ctx.now(),
    generatedBy: principal.name,
  };
  // PDFKit (with fontkit and its tables, ~15 MB of memory) is loaded by the first export, not at server start.
  const { renderSealCardPdf } = await import('./seal-card.pdf.js');
  const pdf = await renderSealCardPdf(card, options.lang);
  return { pdf, fileName: `seal-${seal.code.replace(/[^A-Za-z0-9._-]+/g, '_')}-file-card.pdf` };
}

/** The impression as PNG; a stored image that cannot be read is named on the card instead of failing the export. */
async function readImage(ctx: AppContext, groupId: string, sha256: string): Promise<SealCardDocument['image']> {
  try {
    return { png: await sealImagePng(ctx, { groupId, sha256 }) };
  } catch (error) {
    if (error instanceof BlobMissingError || error instanceof BlobCorruptError)
      return { missing: `${sha256.slice(0, 12)}… ${error.message}` };
    if (error instanceof AppError && error.code === 'blob_not_found') return { missing: error.message };
    throw error;
  }
}

/** The seal file card (档案卡): every attribute, its custodians, every grant and its history. */
export async function getSealCard(ctx: AppContext, actor: Actor, sealId: string) {
  const { principal } = actor;
  const seal = await getSeal(ctx, actor, sealId);
  const grants = await findGrants(ctx.db, { groupId: principal.groupId, sealId, includeRevoked: true });
  const events = await findEvents(ctx.db, {
    groupId: principal.groupId,
    scope: [seal.companyPath],
    includeGroupWide: false,
    targetId: sealId,
    limit: 500,
  });
  const history = events.map((e) => ({
    seq: e.seq,
    occurredAt: e.occurred_at,
    action: e.action,
    actorName: e.actor_name,
    changes: parseStoredChanges(e).changes,
  }));
  return { seal, grants, history };
}
