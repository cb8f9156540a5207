// The evidence package of a contract (证据包): one zip a court or a counterparty can check without
// Sigil. The signed PDF and its original; an audit-trail certificate (审计追踪证书) as a PDF listing
// every event with time, person, address, identity evidence and hashes; the certificates of every
// signature up to the root; the events as JSON with their inclusion proofs in the signed audit log.
import { createHash } from 'node:crypto';
import { zipSync, strToU8 } from 'fflate';
import PDFDocument from 'pdfkit';
import type { AppContext } from '../../server/context.js';
import { readGroupBlob } from '../../blobs/blob.service.js';
import { cjkFontPath } from '../../seal-image/font.js';
import { derToPem } from '../../signing/index.js';
import { AppError } from '../../server/errors.js';
import type { Actor } from '../access/index.js';
import { proveInclusion } from '../audit/index.js';
import { pki } from '../pki/index.js';
import * as repo from './contract.repository.js';
import { getContract } from './contract.service.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface TrailEvent {
  seq: number;
  occurredAt: string;
  actor: string;
  ip: string | null;
  action: string;
  changes: unknown;
  linkHash: string | null;
}

async function trailPdf(input: {
  contract: Awaited<ReturnType<typeof getContract>>;
  sourceSha256: string;
  finalSha256: string;
  evidence: Map<string, { consentAt: Date | null; identity: unknown; identityCheck: unknown }>;
  signatures: Awaited<ReturnType<typeof repo.findContractSignatures>>;
  attachments: repo.AttachmentRecord[];
  voidedBy: { id: string; title: string; sha256: string } | null;
  voidOf: string | null;
  events: TrailEvent[];
  generatedAt: Date;
}): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 48,
    info: { Title: `审计追踪证书 ${input.contract.title}`, CreationDate: input.generatedAt },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.registerFont('cjk', cjkFontPath('Regular'));
  doc.font('cjk');
  const { contract } = input;
  doc.fontSize(18).text('审计追踪证书', { align: 'center' });
  doc.fontSize(10).text('Audit trail certificate', { align: 'center' }).moveDown();
  const line = (label: string, value: string) => doc.fontSize(10).text(`${label}：${value}`);
  line('合同', contract.title);
  line('编号', contract.number ?? '—');
  line('发起公司', contract.companyName);
  line('状态', contract.status);
  line('原始文件 SHA-256', input.sourceSha256);
  line('最终文件 SHA-256', input.finalSha256);
  line('生成时间', input.generatedAt.toISOString());
  if (input.voidOf) line('作废的原合同', input.voidOf);
  if (input.voidedBy)
    line('已由作废协议作废', `${input.voidedBy.title}（${input.voidedBy.id}，SHA-256 ${input.voidedBy.sha256}）`);
  doc.moveDown().fontSize(13).text('签署方');
  for (const p of contract.participants) {
    const evidence = input.evidence.get(p.id);
    const identity = evidence?.identity ? JSON.stringify(evidence.identity) : '—';
    doc
      .fontSize(10)
      .text(
        `第 ${p.step} 步 · ${p.role} · ${p.orgName ? `${p.orgName} ` : ''}${p.name} · ${p.status}${p.actedAt ? ` · ${p.actedAt.toISOString()}` : ''}`,
      );
    doc.fontSize(8).text(`身份核验：${identity}；同意电子签名：${evidence?.consentAt?.toISOString() ?? '—'}`);
    if (evidence?.identityCheck) doc.fontSize(8).text(`实名/人脸认证：${JSON.stringify(evidence.identityCheck)}`);
  }
  if (input.attachments.length > 0) {
    doc.moveDown().fontSize(13).text('附件');
    for (const a of input.attachments)
      doc.fontSize(8).text(`${a.name} · ${a.mediaType} · ${a.size} 字节 · SHA-256 ${a.sha256}`);
  }
  doc.moveDown().fontSize(13).text('签名');
  for (const s of input.signatures)
    doc
      .fontSize(8)
      .text(
        `${s.signedAt.toISOString()} · ${s.fieldName} · ${s.subject} · 证书序列号 ${s.serial}\n  ${s.inputSha256} → ${s.outputSha256}`,
      );
  doc.moveDown().fontSize(13).text('事件');
  for (const e of input.events)
    doc
      .fontSize(8)
      .text(
        `#${e.seq} ${e.occurredAt} · ${e.action} · ${e.actor}${e.ip ? ` · ${e.ip}` : ''}\n  ${JSON.stringify(e.changes)}${e.linkHash ? `\n  链哈希 ${e.linkHash}` : ''}`,
      );
  doc.end();
  return done;
}

const README = `证据包 / Evidence package

contract.pdf        签署完成（或当前）的合同，含全部数字签名 / the signed contract
original.pdf        发起时的原始文件 / the original before any signature
audit-trail.pdf     审计追踪证书 / the audit trail certificate
events.json         全部事件及其在审计日志中的包含证明 / every event with its inclusion proof
certificates/       每个签名的证书及其上级证书（PEM）/ every signature's certificate and its chain
attachments/        合同附件（如有）/ the contract's attachments, if any
void-agreement.pdf  作废该合同的作废协议（如已作废）/ the void agreement that voided it, if any
manifest.json       以上各文件的 SHA-256 / the SHA-256 of each file above

Check the signatures:      pdfsig contract.pdf   (trust the root in certificates/ first)
Check a certificate chain: openssl verify -CAfile certificates/root.pem -untrusted certificates/<ca>.pem certificates/<serial>.pem
Check the audit log:       sigil audit verify --offline with the group's exported log and its checkpoints
`;

/** The evidence package as zip bytes, for whoever may see the contract. */
export async function buildEvidencePackage(ctx: AppContext, actor: Actor, id: string) {
  const contract = await getContract(ctx, actor, id);
  const groupId = actor.principal.groupId;
  if (contract.status === 'draft')
    throw new AppError('contract_state', 'A draft has no evidence yet; send it first.', { contractStatus: 'draft' });
  const read = async (sha: string) =>
    Buffer.from((await readGroupBlob(ctx.db, ctx.blobs, { groupId, sha256: sha })).bytes);
  const [finalPdf, originalPdf] = await Promise.all([read(contract.currentSha256), read(contract.sourceSha256)]);
  const signatures = await repo.findContractSignatures(ctx.db, id);
  const rows = await repo.findContractEvents(ctx.db, {
    groupId,
    contractId: id,
    signatureIds: signatures.flatMap((s) => (s.signatureId ? [s.signatureId] : [])),
    certificateIds: [...new Set(signatures.map((s) => s.certificateId))],
  });
  const events = await Promise.all(
    rows.map(async (e) => {
      let proof: unknown = null;
      let proofNote: string | null = null;
      try {
        proof = await proveInclusion(ctx.db, groupId, { seq: e.seq });
      } catch (error) {
        proofNote =
          error instanceof AppError ? error.message : 'not yet covered by a signed checkpoint; ask again later';
      }
      return {
        seq: e.seq,
        occurredAt: e.occurredAt.toISOString(),
        actor: e.actorName ?? e.actorType,
        ip: e.ip,
        action: e.action,
        target: { type: e.targetType, id: e.targetId },
        changes: e.changes,
        linkHash: e.linkHash,
        inclusionProof: proof,
        ...(proofNote ? { proofNote } : {}),
      };
    }),
  );
  const evidence = new Map(
    (await repo.findParticipantEvidence(ctx.db, id)).map((p) => [
      p.id,
      { consentAt: p.consentAt, identity: p.identity, identityCheck: p.identityCheck },
    ]),
  );
  const attachments = await repo.findAttachments(ctx.db, id);
  const agreement = await repo.findVoidAgreement(ctx.db, { groupId, contractId: id });
  const voidedBy =
    contract.status === 'voided' && agreement?.status === 'completed'
      ? { id: agreement.id, title: agreement.title, sha256: agreement.currentSha256 }
      : null;
  const generatedAt = ctx.now();
  const trail = await trailPdf({
    contract,
    sourceSha256: contract.sourceSha256,
    finalSha256: contract.currentSha256,
    evidence,
    signatures,
    events,
    generatedAt,
    attachments,
    voidedBy,
    voidOf: contract.voidOf,
  });

  // Every signature's certificate and its issuers, once each, as PEM.
  const certificates: Record<string, Uint8Array> = {};
  for (const s of signatures) {
    const der = Buffer.from(s.der);
    certificates[`certificates/${s.serial}.pem`] = strToU8(derToPem(der, 'CERTIFICATE'));
    const record = await pki.findCertificateById(ctx, s.certificateId);
    if (!record) continue;
    const chain = await pki.chainOf(ctx, record);
    chain.forEach((issuer, index) => {
      const name = index === chain.length - 1 ? 'root' : `ca-${sha256(issuer).slice(0, 12)}`;
      certificates[`certificates/${name}.pem`] = strToU8(derToPem(issuer, 'CERTIFICATE'));
    });
  }
  const files: Record<string, Uint8Array> = {
    'contract.pdf': finalPdf,
    'original.pdf': originalPdf,
    'audit-trail.pdf': trail,
    'events.json': strToU8(JSON.stringify({ contractId: id, events }, null, 2)),
    ...certificates,
    'README.txt': strToU8(README),
  };
  // Each attachment under its own name, prefixed by its place so two of the same name stay apart.
  const attached = await Promise.all(attachments.map((a) => read(a.sha256)));
  attachments.forEach((a, i) => {
    files[`attachments/${String(i + 1).padStart(2, '0')}-${a.name.replace(/[/\\\u0000-\u001f]/g, '_')}`] = attached[i]!;
  });
  if (voidedBy) files['void-agreement.pdf'] = await read(voidedBy.sha256);
  const manifest = Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)]));
  files['manifest.json'] = strToU8(
    JSON.stringify(
      {
        contract: contract.title,
        generatedAt,
        ...(voidedBy ? { voidedBy } : {}),
        ...(contract.voidOf ? { voidOf: contract.voidOf } : {}),
        attachments: attachments.map(({ contractId: _c, ...a }) => a),
        files: manifest,
      },
      null,
      2,
    ),
  );
  const zip = zipSync(files, { level: 6, mtime: generatedAt });
  return { bytes: Buffer.from(zip), name: `${contract.title}-证据包.zip` };
}
