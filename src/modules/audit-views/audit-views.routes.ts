import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { isoDate, uuid, type RoutesPlugin } from '../../server/schemas.js';
import { auditActions, getConsistencyProof, getLatestCheckpoint, getLogKey } from '../audit/index.js';
import * as service from './audit-views.query.js';
import { exportLogFor, getInclusionProof } from './audit-views.scoped.js';

const tags = ['audit'];

const eventSchema = z
  .object({
    id: z.string(),
    seq: z.number().describe("the event's place in the group's log (increasing, with gaps)"),
    occurredAt: isoDate,
    actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    companyId: z.string().nullable(),
    changes: z.record(z.string(), z.unknown()),
    valid: z.boolean().describe('false when the stored payload no longer matches its event schema'),
    hash: z
      .string()
      .nullable()
      .describe("the event's hash in the group's chain; null for the fraction of a second until the sealer links it"),
  })
  .meta({ id: 'AuditEvent' });

const hex32 = z.string().describe('SHA-256, lower-case hex');
const problemKinds = [
  'altered',
  'inserted',
  'missing',
  'tree_altered',
  'truncated',
  'rewritten',
  'forked',
  'checkpoint_forged',
  'checkpoint_missing',
] as const;
const treeSize = z.coerce.number({ message: 'must be a number' }).int().min(1).max(Number.MAX_SAFE_INTEGER);

const checkpointSchema = z
  .object({
    groupId: z.string(),
    origin: z.string().describe('the first line of the note: sigil/audit/<groupId>'),
    treeSize: z.number(),
    rootHash: hex32.describe('the Merkle tree hash of the first treeSize places (RFC 9162 §2.1.1), hex'),
    signedAt: isoDate,
    keyId: z.string().describe("SHA-256 of the log key's SubjectPublicKeyInfo, hex"),
    signature: z.string().describe('ECDSA P-256 / SHA-256 over the body of the note, DER, base64'),
    note: z
      .string()
      .describe(
        'the checkpoint as a signed note: origin, tree size, root (base64), "timestamp <ISO 8601>", a blank line, then "— sigil-audit-log <base64(key hint || signature)>"',
      ),
  })
  .meta({ id: 'AuditCheckpoint' });

const dateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
  .transform((v) => new Date(v));

export const auditRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/audit-events', {
    schema: {
      tags,
      summary: 'The audit log, newest first (security auditors)',
      querystring: z.strictObject({
        action: z.enum(auditActions).optional(),
        actionPrefix: z
          .string()
          .regex(/^[a-z_.]{1,40}$/, { message: 'must be the start of an action name, e.g. user.' })
          .optional(),
        actorId: uuid.optional(),
        targetId: uuid.optional(),
        companyId: uuid.optional(),
        from: dateTime.optional(),
        to: dateTime.optional(),
        beforeSeq: z.coerce.number().int().min(1).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      response: { 200: z.object({ items: z.array(eventSchema), nextBeforeSeq: z.number().nullable() }) },
    },
    handler: async (request) => service.listAuditEvents(ctx, actorOf(request), request.query),
  });

  app.get('/audit-events/verify', {
    schema: {
      tags,
      summary: "Verify the group's audit hash chain",
      response: {
        200: z.object({
          intact: z.boolean(),
          checked: z.number(),
          headSeq: z.number(),
          firstProblem: z
            .object({
              kind: z.enum(problemKinds),
              seq: z.number(),
              eventId: z.string().nullable(),
              detail: z.string(),
            })
            .nullable(),
          checkpoint: z
            .object({ treeSize: z.number(), rootHash: hex32, signedAt: isoDate, keyId: z.string() })
            .nullable()
            .describe('the newest signed checkpoint the tree matches; places after it are not yet covered by one'),
          checkpointsChecked: z.number(),
          signing: z
            .object({ outcome: z.enum(['signed', 'current', 'refused', 'unavailable']), detail: z.string().nullable() })
            .describe('whether the tree as it was found was signed first (refused: it no longer extends a checkpoint)'),
        }),
      },
    },
    handler: async (request) => service.verifyAuditChain(ctx, actorOf(request)),
  });

  app.get('/audit-events/:seq/inclusion-proof', {
    schema: {
      tags,
      summary: "An event's audit path in the group's Merkle tree (RFC 9162 §2.1.3), for an auditor who may see it",
      params: z.object({ seq: z.coerce.number({ message: 'must be a number' }).int().min(1) }),
      querystring: z.strictObject({
        treeSize: treeSize.optional().describe('the tree to prove inclusion in; default the newest checkpoint'),
      }),
      response: {
        200: z.object({
          seq: z.number(),
          eventId: z.string(),
          leafIndex: z.number().describe('place in the chain − 1'),
          treeSize: z.number(),
          chainVersion: z.number(),
          said: z
            .string()
            .nullable()
            .describe('version 4: what the event says, as hashed (a JSON array); null for older events'),
          contentHash: z.string().nullable().describe('version 3: the content hash the server stored'),
          prevHash: hex32,
          linkHash: hex32.describe('SHA-256(prevHash ":" place ":" SHA-256(said)): the leaf\'s data'),
          leafHash: hex32.describe('SHA-256(0x00 || linkHash bytes)'),
          auditPath: z.array(hex32),
          rootHash: hex32,
          checkpoint: z.string().nullable().describe('the signed checkpoint of this tree size, when one was signed'),
        }),
      },
    },
    handler: async (request) =>
      getInclusionProof(ctx, actorOf(request), { seq: request.params.seq, treeSize: request.query.treeSize }),
  });

  app.get('/audit/export', {
    schema: {
      tags,
      summary: "The group's whole audit log as JSON lines, for checking offline (auditors of the whole group)",
      description:
        'A header line {format, origin, groupId, treeSize, exportedAt}, then one line per place of the chain: {place, version, prevHash, hash, said}. Check it with `sigil audit verify --log FILE --checkpoint CP --public-key KEY`.',
      response: { 200: z.unknown().describe('application/x-ndjson') },
    },
    handler: async (request, reply) => {
      const stream = await exportLogFor(ctx, actorOf(request));
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit-log.jsonl"')
        .send(stream);
    },
  });

  // Without an account: what anyone needs to hold the log to its word (sizes and hashes only).
  const open = { auth: 'public' as const };
  app.get('/audit/log-key', {
    config: open,
    schema: {
      tags,
      summary: "The deployment's audit log key: what checks every checkpoint",
      security: [],
      response: {
        200: z.object({
          keyId: z.string(),
          name: z.string(),
          algorithm: z.string().describe('ECDSA-P256-SHA256'),
          publicKey: z.string().describe('SubjectPublicKeyInfo, PEM'),
          createdAt: isoDate,
        }),
      },
    },
    handler: async () => getLogKey(ctx),
  });

  app.get('/audit/checkpoints/latest', {
    config: open,
    schema: {
      tags,
      summary: "A group's newest signed checkpoint of its audit log",
      security: [],
      querystring: z.strictObject({ groupId: uuid }),
      response: { 200: checkpointSchema },
    },
    handler: async (request) => getLatestCheckpoint(ctx, request.query.groupId),
  });

  app.get('/audit/consistency-proof', {
    config: open,
    schema: {
      tags,
      summary: "That a group's tree of `first` places is a prefix of its tree of `second` (RFC 9162 §2.1.4)",
      security: [],
      querystring: z.strictObject({ groupId: uuid, first: treeSize, second: treeSize }),
      response: {
        200: z.object({ groupId: z.string(), first: z.number(), second: z.number(), proof: z.array(hex32) }),
      },
    },
    handler: async (request) => getConsistencyProof(ctx, request.query),
  });
};
