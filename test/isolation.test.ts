import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'kysely';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import { notify } from '../src/modules/notifications/notification.service.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import {
  buildCompany,
  buildGroup,
  buildSeal,
  buildUser,
  client,
  createWorld,
  sessionFor,
  type World,
} from './support/world.js';

/**
 * Walks every endpoint of the API as callers who must not reach a victim company:
 * administrators, auditors and an API key of another group, and administrators and
 * auditors of a sibling company in the same group. Every endpoint the app registers
 * must have a probe here, so a new endpoint joins the walk or fails this suite.
 */

interface Victim {
  groupId: string;
  hqId: string;
  adminId: string;
  company: string;
  department: string;
  user: string;
  userEmail: string;
  session: string;
  assignment: string;
  apiKey: string;
  post: string;
  seal: string;
  grant: string;
  notification: string;
  flow: string;
  application: string;
  task: string;
  authorization: string;
  delegation: string;
  /** SHA-256 of the victim seal's image. */
  image: string;
  /** The seq of an audit event about the victim company (its department's creation). */
  auditEvent: number;
  /** A PDF the victim uploaded, the signature they made on it, its output and the seal certificate's serial. */
  document: string;
  signature: string;
  signedOutput: string;
  certificateSerial: string;
  /** A webhook endpoint over the victim company, and a delivery to it (queued, never run here). */
  webhookEndpoint: string;
  webhookDelivery: string;
  /** A contract the victim sent (made from their document), and a template of the victim company. */
  contract: string;
  template: string;
  /** A physical seal of the victim company in a registered smart seal device (issue 16). */
  physicalSeal: string;
  device: string;
  deviceSerial: string;
  /** A sampling review of the victim company's usage records (its one item: the victim's signature). */
  usageReview: string;
}

interface Attacker {
  label: string;
  token: string;
  /** A company the attacker legitimately manages, for probes that need one of theirs. */
  ownCompany: string;
  /** Same group as the victim: group-wide settings are legitimately shared. */
  sameGroup: boolean;
  isApiKey?: boolean;
}

interface Probe {
  /** `target`: names a victim object, must be refused (403/404). `list`: may answer, but never with victim data. */
  kind: 'target' | 'list';
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
}

type ProbeFactory = (v: Victim, a: Attacker) => Probe[];

let sequence = 0;
/** A fully transparent 64×64 PNG: the smallest seal image an upload accepts. */
const transparentPng = PNG.sync.write(new PNG({ width: 64, height: 64 })).toString('base64');
const fresh = () => `probe-${++sequence}`;
/** A genuine P-256 device key, so that a registration probe fails on the seal, not on the key. */
const probeDeviceKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .publicKey.export({ format: 'der', type: 'spki' })
  .toString('base64');

const probes: Record<string, ProbeFactory> = {
  'POST /api/v1/auth/sign-out': () => [{ kind: 'list' }],
  'GET /api/v1/auth/sessions': () => [{ kind: 'list' }],
  'DELETE /api/v1/auth/sessions/:sessionId': (v) => [{ kind: 'target', params: { sessionId: v.session } }],
  'POST /api/v1/me/password': () => [
    { kind: 'list', body: { currentPassword: 'wrong password', newPassword: 'another long password' } },
  ],
  'POST /api/v1/me/totp/setup': () => [{ kind: 'list' }],
  'POST /api/v1/me/totp/enable': () => [{ kind: 'list', body: { code: '000000' } }],
  'POST /api/v1/me/totp/disable': () => [{ kind: 'list', body: { code: '000000' } }],
  'GET /api/v1/me': () => [{ kind: 'list' }],
  'PATCH /api/v1/me': () => [{ kind: 'list', body: { locale: 'en' } }],
  'GET /api/v1/companies': (v) => [
    { kind: 'list' },
    { kind: 'list', query: `under=${v.company}` },
    { kind: 'list', query: `parentId=${v.hqId}` },
    { kind: 'list', query: 'q=Victim' },
  ],
  'GET /api/v1/companies/:companyId': (v) => [{ kind: 'target', params: { companyId: v.company } }],
  'POST /api/v1/companies': (v) => [{ kind: 'target', body: { parentId: v.company, name: 'Intruder', code: fresh() } }],
  'PATCH /api/v1/companies/:companyId': (v, a) => [
    { kind: 'target', params: { companyId: v.company }, body: { name: 'Pwned' } },
    { kind: 'target', params: { companyId: a.ownCompany }, body: { parentId: v.company } },
  ],
  'GET /api/v1/departments': (v) => [{ kind: 'list' }, { kind: 'list', query: `companyId=${v.company}` }],
  'GET /api/v1/departments/:departmentId': (v) => [{ kind: 'target', params: { departmentId: v.department } }],
  'POST /api/v1/departments': (v, a) => [
    { kind: 'target', body: { companyId: v.company, name: fresh() } },
    { kind: 'target', body: { companyId: a.ownCompany, name: fresh(), headUserId: v.user } },
  ],
  'PATCH /api/v1/departments/:departmentId': (v) => [
    { kind: 'target', params: { departmentId: v.department }, body: { name: 'Pwned' } },
  ],
  'GET /api/v1/users': (v) => [
    { kind: 'list' },
    { kind: 'list', query: `companyId=${v.company}` },
    { kind: 'list', query: `under=${v.company}` },
    { kind: 'list', query: `departmentId=${v.department}` },
    { kind: 'list', query: 'q=victim' },
  ],
  'GET /api/v1/users/:userId': (v) => [{ kind: 'target', params: { userId: v.user } }],
  'POST /api/v1/users': (v, a) => [
    {
      kind: 'target',
      body: {
        email: `${fresh()}@intruder.test`,
        name: 'Intruder',
        companyId: v.company,
        password: 'long enough password',
      },
    },
    {
      kind: 'target',
      body: {
        email: `${fresh()}@intruder.test`,
        name: 'Intruder',
        companyId: a.ownCompany,
        departmentId: v.department,
        password: 'long enough password',
      },
    },
  ],
  'POST /api/v1/service-accounts': (v, a) => [
    { kind: 'target', body: { name: 'Intruder robot', companyId: v.company } },
    { kind: 'target', body: { name: 'Intruder robot', companyId: a.ownCompany, departmentId: v.department } },
  ],
  'PATCH /api/v1/users/:userId': (v, a) => [
    { kind: 'target', params: { userId: v.user }, body: { name: 'Pwned' } },
    { kind: 'target', params: { userId: v.user }, body: { companyId: a.ownCompany } },
  ],
  'POST /api/v1/users/:userId/status': (v) => [
    { kind: 'target', params: { userId: v.user }, body: { status: 'resigned' } },
  ],
  'POST /api/v1/users/:userId/password': (v) => [
    { kind: 'target', params: { userId: v.user }, body: { password: 'attacker chosen password' } },
  ],
  'POST /api/v1/users/:userId/unlock': (v) => [{ kind: 'target', params: { userId: v.user } }],
  'POST /api/v1/users/:userId/posts': (v, a) => [
    { kind: 'target', params: { userId: v.user }, body: { companyId: a.ownCompany, title: 'x' } },
  ],
  'DELETE /api/v1/users/:userId/posts/:postId': (v) => [{ kind: 'target', params: { userId: v.user, postId: v.post } }],
  'GET /api/v1/role-assignments': (v) => [
    { kind: 'list' },
    { kind: 'list', query: `userId=${v.user}` },
    { kind: 'list', query: `companyId=${v.company}` },
  ],
  'POST /api/v1/role-assignments': (v, a) => [
    { kind: 'target', body: { userId: v.user, role: 'employee', companyId: a.ownCompany } },
    { kind: 'target', body: { userId: v.user, role: 'security_auditor', companyId: v.company } },
  ],
  'DELETE /api/v1/role-assignments/:assignmentId': (v) => [{ kind: 'target', params: { assignmentId: v.assignment } }],
  'GET /api/v1/settings/separation-of-duties': () => [{ kind: 'list' }],
  'POST /api/v1/settings/separation-of-duties/proposals': () => [{ kind: 'list', body: { pairs: [], reason: 'x' } }],
  'GET /api/v1/api-keys': () => [{ kind: 'list' }],
  'POST /api/v1/api-keys': (v) => [
    { kind: 'target', body: { name: 'intruder', companyId: v.company, permissions: ['org.read'] } },
    { kind: 'target', body: { name: 'intruder', serviceAccountId: v.user } },
  ],
  'DELETE /api/v1/api-keys/:apiKeyId': (v) => [{ kind: 'target', params: { apiKeyId: v.apiKey } }],
  'GET /api/v1/webhook-event-types': () => [{ kind: 'list' }],
  'GET /api/v1/webhook-endpoints': () => [{ kind: 'list' }],
  'POST /api/v1/webhook-endpoints': (v) => [
    {
      kind: 'target',
      body: { companyId: v.company, url: 'https://intruder.example/hook', eventTypes: ['application.submitted'] },
    },
  ],
  'GET /api/v1/webhook-endpoints/:endpointId': (v) => [{ kind: 'target', params: { endpointId: v.webhookEndpoint } }],
  'PATCH /api/v1/webhook-endpoints/:endpointId': (v) => [
    { kind: 'target', params: { endpointId: v.webhookEndpoint }, body: { url: 'https://intruder.example/hook' } },
  ],
  'DELETE /api/v1/webhook-endpoints/:endpointId': (v) => [
    { kind: 'target', params: { endpointId: v.webhookEndpoint } },
  ],
  'POST /api/v1/webhook-endpoints/:endpointId/rotate-secret': (v) => [
    { kind: 'target', params: { endpointId: v.webhookEndpoint } },
  ],
  'POST /api/v1/webhook-endpoints/:endpointId/test': (v) => [
    { kind: 'target', params: { endpointId: v.webhookEndpoint } },
  ],
  'GET /api/v1/webhook-endpoints/:endpointId/deliveries': (v) => [
    { kind: 'target', params: { endpointId: v.webhookEndpoint } },
  ],
  'POST /api/v1/webhook-endpoints/:endpointId/deliveries/:deliveryId/redeliver': (v) => [
    { kind: 'target', params: { endpointId: v.webhookEndpoint, deliveryId: v.webhookDelivery } },
  ],
  'GET /api/v1/devices/ticket-key': () => [{ kind: 'list' }],
  'GET /api/v1/devices': (v) => [{ kind: 'list' }, { kind: 'list', query: `sealId=${v.physicalSeal}` }],
  'POST /api/v1/devices': (v) => [
    { kind: 'target', body: { serial: fresh(), sealId: v.physicalSeal, publicKey: probeDeviceKey } },
  ],
  'GET /api/v1/devices/:deviceId': (v) => [{ kind: 'target', params: { deviceId: v.device } }],
  'POST /api/v1/devices/:deviceId/lock': (v) => [
    { kind: 'target', params: { deviceId: v.device }, body: { locked: true } },
  ],
  'POST /api/v1/devices/:deviceId/maintenance-tickets': (v) => [{ kind: 'target', params: { deviceId: v.device } }],
  'GET /api/v1/devices/:deviceId/events': (v) => [{ kind: 'target', params: { deviceId: v.device } }],
  'POST /api/v1/devices/:deviceId/photos': (v) => [{ kind: 'target', params: { deviceId: v.device } }],
  'GET /api/v1/devices/:deviceId/photos/:sha256': (v) => [
    { kind: 'target', params: { deviceId: v.device, sha256: v.image } },
  ],
  'POST /api/v1/device-tickets': (v) => [{ kind: 'target', body: { authorizationId: v.authorization } }],
  'POST /api/v1/device-sync': (v) => [{ kind: 'target', body: { serial: v.deviceSerial, events: [] } }],
  'GET /api/v1/device-findings': (v) => [
    { kind: 'list' },
    { kind: 'list', query: `deviceId=${v.device}` },
    { kind: 'list', query: `sealId=${v.physicalSeal}` },
    { kind: 'list', query: `applicationId=${v.application}` },
  ],
  'GET /api/v1/seal-usage': (v) => [
    { kind: 'list' },
    { kind: 'list', query: `sealId=${v.physicalSeal}` },
    { kind: 'list', query: `companyId=${v.company}` },
    { kind: 'list', query: `userId=${v.user}` },
  ],
  'GET /api/v1/seal-usage/reports': (v) => [
    { kind: 'list', query: 'period=week&from=2026-12-07' },
    { kind: 'list', query: 'period=month&from=2026-12-01&format=csv' },
    { kind: 'target', query: `period=week&from=2026-12-07&companyId=${v.company}` },
    { kind: 'target', query: `period=month&from=2026-12-01&companyId=${v.company}&format=pdf` },
  ],
  'GET /api/v1/seal-usage/records/:recordId': (v) => [{ kind: 'target', params: { recordId: `e-${v.signature}` } }],
  'POST /api/v1/seal-usage/records/:recordId/corrections': (v) => [
    { kind: 'target', params: { recordId: `e-${v.signature}` }, body: { what: 'intruder', why: 'intruder' } },
  ],
  'POST /api/v1/seal-usage/reviews': (v, a) => [
    {
      kind: 'target',
      body: {
        companyId: v.company,
        from: '2000-01-01T00:00:00Z',
        to: '2000-12-01T00:00:00Z',
        size: 5,
        reviewerId: v.adminId,
      },
    },
    {
      kind: 'list',
      body: {
        companyId: a.ownCompany,
        from: '2000-01-01T00:00:00Z',
        to: '2000-12-01T00:00:00Z',
        size: 5,
        reviewerId: v.user,
      },
    },
  ],
  'GET /api/v1/seal-usage/reviews': () => [{ kind: 'list' }, { kind: 'list', query: 'mine=true' }],
  'GET /api/v1/seal-usage/reviews/:reviewId': (v) => [{ kind: 'target', params: { reviewId: v.usageReview } }],
  'POST /api/v1/seal-usage/reviews/:reviewId/items/:position/decision': (v) => [
    { kind: 'target', params: { reviewId: v.usageReview, position: '1' }, body: { decision: 'confirmed' } },
  ],
  'POST /api/v1/seal-usage/register-checks': (v) => [
    {
      kind: 'target',
      query: `companyId=${v.company}&from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z`,
      body: {},
    },
  ],
  'GET /api/v1/applications/:applicationId/device-records': (v) => [
    { kind: 'target', params: { applicationId: v.application } },
  ],
  'GET /api/v1/audit-events': (v) => [
    { kind: 'list' },
    { kind: 'target', query: `companyId=${v.company}` },
    { kind: 'list', query: `targetId=${v.user}` },
    { kind: 'list', query: `actorId=${v.adminId}` },
  ],
  'GET /api/v1/audit-events/verify': () => [{ kind: 'list' }],
  'GET /api/v1/audit-events/:seq/inclusion-proof': (v) => [
    { kind: 'target', params: { seq: String(v.auditEvent) } },
    { kind: 'target', params: { seq: String(v.auditEvent) }, query: 'treeSize=1' },
  ],
  'GET /api/v1/audit/export': () => [{ kind: 'list' }],
  'GET /api/v1/notifications': () => [
    { kind: 'list' },
    { kind: 'list', query: 'unread=true' },
    { kind: 'list', query: 'limit=500' },
  ],
  'GET /api/v1/notifications/unread-count': () => [{ kind: 'list' }],
  'POST /api/v1/notifications/:notificationId/read': (v) => [
    { kind: 'target', params: { notificationId: v.notification } },
  ],
  'POST /api/v1/notifications/read-all': () => [{ kind: 'list' }],
  'GET /api/v1/seals': (v) => [
    { kind: 'list' },
    { kind: 'list', query: `companyId=${v.company}` },
    { kind: 'list', query: `under=${v.company}` },
    { kind: 'list', query: `custodianId=${v.user}` },
    { kind: 'list', query: 'q=Victim' },
  ],
  'GET /api/v1/seals/statistics': (v) => [{ kind: 'list' }, { kind: 'target', query: `under=${v.company}` }],
  'GET /api/v1/seals/:sealId': (v) => [{ kind: 'target', params: { sealId: v.seal } }],
  'GET /api/v1/seals/:sealId/file-card.pdf': (v) => [
    { kind: 'target', params: { sealId: v.seal } },
    { kind: 'target', params: { sealId: v.seal }, query: 'lang=en' },
  ],
  'GET /api/v1/seals/:sealId/grants': (v) => [{ kind: 'target', params: { sealId: v.seal } }],
  'POST /api/v1/seals/:sealId/grants': (v, a) => [
    {
      kind: 'target',
      params: { sealId: v.seal },
      body: { grantee: { type: 'user', userId: v.user }, categories: ['sales'] },
    },
    {
      kind: 'target',
      params: { sealId: v.seal },
      body: { grantee: { type: 'role', role: 'employee', companyId: a.ownCompany }, categories: ['sales'] },
    },
  ],
  'POST /api/v1/seals/:sealId/grants/:grantId/revoke': (v) => [
    { kind: 'target', params: { sealId: v.seal, grantId: v.grant }, body: {} },
  ],
  'GET /api/v1/flows': (v) => [{ kind: 'list' }, { kind: 'list', query: `companyId=${v.company}` }],
  'GET /api/v1/flows/:flowId': (v) => [{ kind: 'target', params: { flowId: v.flow } }],
  'POST /api/v1/flows': (v) => [
    {
      kind: 'target',
      body: {
        companyId: v.company,
        name: 'Intruder flow',
        category: 'legal',
        definition: { levels: [{ name: 'x', mode: 'any', approvers: [{ type: 'custodian' }] }] },
      },
    },
  ],
  'PUT /api/v1/flows/:flowId': (v) => [
    {
      kind: 'target',
      params: { flowId: v.flow },
      body: { definition: { levels: [{ name: 'x', mode: 'any', approvers: [{ type: 'custodian' }] }] } },
    },
  ],
  'POST /api/v1/flows/:flowId/archive': (v) => [{ kind: 'target', params: { flowId: v.flow } }],
  'POST /api/v1/applications/preview': (v) => [
    { kind: 'target', body: { sealIds: [v.seal], category: 'sales', reason: 'x', uses: 1 } },
  ],
  'POST /api/v1/applications': (v) => [
    { kind: 'target', body: { sealIds: [v.seal], category: 'sales', reason: 'x', uses: 1 } },
  ],
  'GET /api/v1/applications': () => [{ kind: 'list' }],
  'GET /api/v1/applications/:applicationId': (v) => [{ kind: 'target', params: { applicationId: v.application } }],
  'GET /api/v1/applications/:applicationId/document-signatures': (v) => [
    { kind: 'target', params: { applicationId: v.application } },
  ],
  'POST /api/v1/applications/:applicationId/withdraw': (v) => [
    { kind: 'target', params: { applicationId: v.application } },
  ],
  'GET /api/v1/tasks': () => [{ kind: 'list' }],
  'POST /api/v1/tasks/:taskId/approve': (v) => [{ kind: 'target', params: { taskId: v.task }, body: {} }],
  'POST /api/v1/tasks/:taskId/reject': (v) => [{ kind: 'target', params: { taskId: v.task }, body: { reason: 'no' } }],
  'POST /api/v1/tasks/:taskId/transfer': (v) => [
    { kind: 'target', params: { taskId: v.task }, body: { toUserId: v.user } },
  ],
  'GET /api/v1/tasks/:taskId/transfer-candidates': (v) => [
    { kind: 'target', params: { taskId: v.task } },
    { kind: 'target', params: { taskId: v.task }, query: 'q=Victim' },
  ],
  'POST /api/v1/authorizations/:authorizationId/revoke': (v) => [
    { kind: 'target', params: { authorizationId: v.authorization } },
  ],
  'GET /api/v1/delegations': () => [{ kind: 'list' }],
  'GET /api/v1/delegations/candidates': () => [{ kind: 'list' }, { kind: 'list', query: 'q=Victim' }],
  'POST /api/v1/delegations': (v) => [
    { kind: 'target', body: { delegateId: v.user, startsAt: '2026-01-01T00:00:00Z', endsAt: '2036-01-01T00:00:00Z' } },
  ],
  'DELETE /api/v1/delegations/:delegationId': (v) => [{ kind: 'target', params: { delegationId: v.delegation } }],
  'POST /api/v1/seals/production-applications': (v) => [
    {
      kind: 'target',
      body: {
        companyId: v.company,
        name: 'Intruder seal',
        code: fresh(),
        kind: 'physical',
        type: 'official',
        custodianIds: [v.user],
        reason: 'x',
      },
    },
  ],
  'POST /api/v1/seals/:sealId/lifecycle-applications': (v) => [
    { kind: 'target', params: { sealId: v.seal }, body: { action: 'suspend', reason: 'x' } },
  ],
  'POST /api/v1/seals/production-applications/preview': (v, a) => [
    { kind: 'target', body: { companyId: v.company, custodianIds: [v.user] } },
    { kind: 'target', body: { companyId: a.ownCompany, custodianIds: [v.user] } },
  ],
  'POST /api/v1/seals/:sealId/lifecycle-applications/preview': (v) => [
    { kind: 'target', params: { sealId: v.seal }, body: { action: 'suspend' } },
    { kind: 'target', params: { sealId: v.seal }, body: { action: 'change', imageSha256: v.image } },
  ],
  'GET /api/v1/reports/seal-permissions': (v) => [
    { kind: 'list' },
    { kind: 'target', query: `under=${v.company}` },
    { kind: 'target', query: `sealId=${v.seal}` },
    { kind: 'target', query: `userId=${v.user}` },
    { kind: 'list', query: 'format=csv' },
  ],
  'POST /api/v1/documents/uploads': () => [{ kind: 'list', body: {} }],
  'GET /api/v1/applications/:applicationId/documents/:sha256': (v) => [
    { kind: 'target', params: { applicationId: v.application, sha256: 'a'.repeat(64) } },
  ],
  'GET /api/v1/people': () => [{ kind: 'list' }, { kind: 'list', query: 'q=Victim' }],
  'POST /api/v1/seal-images/preview': () => [
    { kind: 'list', body: { shape: 'round', company: '华夏贸易', type: '合同专用章' } },
  ],
  'POST /api/v1/seal-images/generate': () => [{ kind: 'list', body: { shape: 'square', name: '张三之印' } }],
  'POST /api/v1/seal-images': () => [{ kind: 'list', body: { dataBase64: transparentPng, mediaType: 'image/png' } }],
  'GET /api/v1/seal-images/:sha256': (v) => [{ kind: 'target', params: { sha256: v.image } }],
  'GET /api/v1/me/seals': () => [{ kind: 'list' }, { kind: 'list', query: 'category=sales' }],
  'GET /api/v1/pki': () => [{ kind: 'list' }],
  'GET /api/v1/seals/:sealId/certificate': (v) => [{ kind: 'target', params: { sealId: v.seal } }],
  'POST /api/v1/seals/:sealId/certificate': (v) => [
    { kind: 'target', params: { sealId: v.seal }, body: {} },
    { kind: 'target', params: { sealId: v.seal }, body: { replace: true } },
  ],
  'POST /api/v1/seals/:sealId/certificate/import': (v) => [
    { kind: 'target', params: { sealId: v.seal }, body: { pkcs12Base64: 'MAA=', password: 'x' } },
  ],
  'POST /api/v1/seals/:sealId/esl': (v) => [{ kind: 'target', params: { sealId: v.seal }, body: {} }],
  'GET /api/v1/seals/:sealId/esl': (v) => [{ kind: 'target', params: { sealId: v.seal } }],
  'GET /api/v1/me/certificate': () => [{ kind: 'list' }],
  'POST /api/v1/me/certificate': () => [{ kind: 'list' }],
  'POST /api/v1/contracts': (v) => [
    {
      kind: 'target',
      body: {
        title: 'Intruder',
        category: 'sales',
        documentSha256: v.document,
        participants: [{ role: 'signer', step: 1, kind: 'outside_person', name: 'x', phone: '13800000000' }],
      },
    },
  ],
  'GET /api/v1/contracts': () => [{ kind: 'list' }, { kind: 'list', query: 'q=Victim' }],
  'GET /api/v1/contracts/:id': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'GET /api/v1/templates': () => [{ kind: 'list' }],
  'POST /api/v1/templates': (v) => [
    {
      kind: 'target',
      body: {
        companyId: v.company,
        name: fresh(),
        category: 'sales',
        source: { title: 'x', variables: [], body: 'x' },
      },
    },
  ],
  'GET /api/v1/templates/:id': (v) => [{ kind: 'target', params: { id: v.template } }],
  'POST /api/v1/templates/:id/versions': (v) => [
    { kind: 'target', params: { id: v.template }, body: { source: { title: 'x', variables: [], body: 'x' } } },
  ],
  'POST /api/v1/templates/:id/previews': (v) => [
    { kind: 'target', params: { id: v.template }, body: { values: { party: 'x' } } },
  ],
  'GET /api/v1/contracts/:id/evidence': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'GET /api/v1/contracts/:id/document': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'POST /api/v1/contracts/:id/send': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'POST /api/v1/contracts/:id/sign': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'POST /api/v1/contracts/:id/approve': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'POST /api/v1/contracts/:id/reject': (v) => [{ kind: 'target', params: { id: v.contract }, body: { reason: 'x' } }],
  'POST /api/v1/contracts/:id/void': (v) => [{ kind: 'target', params: { id: v.contract }, body: { reason: 'x' } }],
  'POST /api/v1/contracts/:id/reminders': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'POST /api/v1/contracts/:id/void-agreement': (v) => [
    { kind: 'target', params: { id: v.contract }, body: { reason: 'x' } },
  ],
  'GET /api/v1/contracts/:id/attachments': (v) => [{ kind: 'target', params: { id: v.contract } }],
  'GET /api/v1/contracts/:id/attachments/:attachmentId': (v) => [
    { kind: 'target', params: { id: v.contract, attachmentId: v.contract } },
  ],
  'POST /api/v1/contracts/:id/attachments': (v) => [{ kind: 'target', params: { id: v.contract }, body: {} }],
  'GET /api/v1/contract-policies/:companyId': (v) => [{ kind: 'target', params: { companyId: v.company } }],
  'PUT /api/v1/contract-policies/:companyId': (v) => [
    { kind: 'target', params: { companyId: v.company }, body: { requireSecondFactor: true } },
  ],
  'POST /api/v1/signatures/batches': (v) => [
    { kind: 'target', body: { documents: [v.document], sealId: v.seal, category: 'sales', level: 'B-B' } },
  ],
  'GET /api/v1/signatures/batches/:batchId': (v) => [{ kind: 'target', params: { batchId: v.contract } }],
  'POST /api/v1/signatures': (v, a) => [
    { kind: 'target', body: { documentSha256: v.document, sealId: v.seal, category: 'sales', level: 'B-B' } },
    { kind: 'target', body: { documentSha256: v.signedOutput, level: 'B-B' } },
    { kind: 'target', body: { documentSha256: v.document, authorizationId: v.authorization, level: 'B-B' } },
    ...(a.isApiKey
      ? []
      : [
          {
            kind: 'target' as const,
            body: {
              documentSha256: v.document,
              sealId: v.seal,
              category: 'sales',
              level: 'B-B',
              appearance: { type: 'rect', page: 1, rect: [0, 0, 10, 10] },
            },
          },
        ]),
  ],
  'GET /api/v1/signatures': (v) => [{ kind: 'list', query: `originalSha256=${v.document}` }],
  'GET /api/v1/documents/:sha256/pages': (v) => [{ kind: 'target', params: { sha256: v.document } }],
  'GET /api/v1/documents/:sha256/pages/:page/image': (v) => [
    { kind: 'target', params: { sha256: v.document, page: '1' } },
  ],
  'GET /api/v1/signatures/:signatureId': (v) => [{ kind: 'target', params: { signatureId: v.signature } }],
  'GET /api/v1/signatures/:signatureId/document': (v) => [{ kind: 'target', params: { signatureId: v.signature } }],
  'GET /api/v1/archive/:sha256': (v) => [
    { kind: 'list', params: { sha256: v.signedOutput } },
    { kind: 'list', params: { sha256: v.document } },
  ],
  'POST /api/v1/verifications': () => [{ kind: 'list', body: {} }],
  'GET /api/v1/seal-use/decision': (v, a) => [
    ...(a.isApiKey ? [] : [{ kind: 'target' as const, query: `sealId=${v.seal}&category=sales` }]),
    { kind: 'target', query: `sealId=${v.seal}&userId=${v.user}&category=sales` },
  ],
};

let world: World;
let victim: Victim;
let attackers: Attacker[];
let siblingIds: string[];

/** The victim group's rows, less what the sibling attackers legitimately change about themselves (their sessions, profile, sign-out events). */
async function snapshot(groupId: string, attackerIds: string[]) {
  const db = world.db;
  const out = {
    groups: await db.selectFrom('groups').selectAll().where('id', '=', groupId).execute(),
    companies: await db.selectFrom('companies').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    departments: await db.selectFrom('departments').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    users: await db
      .selectFrom('users')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('id', 'not in', attackerIds)
      .orderBy('id')
      .execute(),
    roles: await db.selectFrom('role_assignments').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    apiKeys: await db.selectFrom('api_keys').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    posts: await db.selectFrom('user_posts').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    seals: await db.selectFrom('seals').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    grants: await db.selectFrom('seal_grants').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    notifications: await db
      .selectFrom('notifications')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('id')
      .execute(),
    custodians: await db
      .selectFrom('seal_custodians')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('seal_id')
      .execute(),
    flows: await db.selectFrom('flows').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    flowVersions: await db
      .selectFrom('flow_versions')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('id')
      .execute(),
    applications: await db
      .selectFrom('applications')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('id')
      .execute(),
    tasks: await db.selectFrom('approval_tasks').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    authorizations: await db
      .selectFrom('authorizations')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('id')
      .execute(),
    certificates: await db
      .selectFrom('certificates')
      .selectAll()
      .where('group_id', '=', groupId)
      .where((eb) => eb.or([eb('user_id', 'is', null), eb('user_id', 'not in', attackerIds)]))
      .orderBy('id')
      .execute(),
    signatures: await db.selectFrom('signatures').selectAll().where('group_id', '=', groupId).orderBy('id').execute(),
    webhookEndpoints: await db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('id')
      .execute(),
    webhookDeliveries: await db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('id')
      .execute(),
    blobs: await db
      .selectFrom('blobs')
      .selectAll()
      .where('group_id', '=', groupId)
      .where((eb) => eb.or([eb('created_by', 'is', null), eb('created_by', 'not in', attackerIds)]))
      .orderBy('sha256')
      .execute(),
    delegations: await db
      .selectFrom('delegations')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('user_id', 'not in', attackerIds)
      .orderBy('id')
      .execute(),
    sessions: await db
      .selectFrom('sessions')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('user_id', 'not in', attackerIds)
      .orderBy('id')
      .execute(),
    events: await db
      .selectFrom('audit_events')
      .select(['seq', 'hash'])
      .where('group_id', '=', groupId)
      .where('actor_id', 'not in', attackerIds)
      .orderBy('seq')
      .execute(),
  };
  return JSON.parse(JSON.stringify(out)) as unknown;
}

beforeAll(async () => {
  world = await createWorld({ SIGIL_LOGIN_RATE_PER_MINUTE: '10000' });
  const a = await buildGroup(world, 'Victim Group');
  const a1 = await buildCompany(world, { groupId: a.groupId, parent: a.hq, name: 'Sibling One' });
  const a2 = await buildCompany(world, { groupId: a.groupId, parent: a.hq, name: 'Victim Company' });
  const adminA = client(world, a.admin.token);
  const department = (await adminA.post('/api/v1/departments', { companyId: a2.id, name: 'Victim Department' })).body
    .id as string;
  const user = await buildUser(world, {
    groupId: a.groupId,
    companyId: a2.id,
    name: 'Victim Person',
    departmentId: department,
  });
  const session = (
    await world.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow()
  ).id;
  const assignment = (
    await adminA.post('/api/v1/role-assignments', { userId: user.id, role: 'employee', companyId: a2.id })
  ).body.id as string;
  const apiKey = (
    await adminA.post('/api/v1/api-keys', { name: 'victim key', companyId: a2.id, permissions: ['org.read'] })
  ).body.key.id as string;
  const post = (await adminA.post(`/api/v1/users/${user.id}/posts`, { companyId: a2.id, title: 'Victim post' })).body
    .posts[0].id as string;
  const webhookEndpoint = (
    await adminA.post('/api/v1/webhook-endpoints', {
      companyId: a2.id,
      url: 'https://victim-hooks.example/sigil',
      eventTypes: ['application.submitted'],
    })
  ).body.endpoint.id as string;
  const webhookDelivery = (await adminA.post(`/api/v1/webhook-endpoints/${webhookEndpoint}/test`)).body.id as string;
  const sealAdminA = await buildUser(world, {
    groupId: a.groupId,
    companyId: a.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  const seal = (
    await buildSeal(world, { groupId: a.groupId, companyId: a2.id, name: 'Victim Seal', custodianIds: [sealAdminA.id] })
  ).id;
  const grant = (
    await client(world, sealAdminA.token).post(`/api/v1/seals/${seal}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
    })
  ).body.id as string;
  const physicalSeal = (
    await buildSeal(world, {
      groupId: a.groupId,
      companyId: a2.id,
      name: 'Victim Seal (physical)',
      kind: 'physical',
      custodianIds: [sealAdminA.id],
    })
  ).id;
  const deviceSerial = `VICTIM-${newId().slice(-8)}`;
  const device = (
    await client(world, sealAdminA.token).post('/api/v1/devices', {
      serial: deviceSerial,
      sealId: physicalSeal,
      publicKey: probeDeviceKey,
    })
  ).body.id as string;
  const notified = await world.db.transaction().execute((trx) =>
    notify(trx, {
      groupId: a.groupId,
      userIds: [user.id],
      kind: 'application.approved',
      params: { applicationId: newId(), sealNames: ['Victim Seal'], approverName: 'Victim Approver' },
      link: '/applications/victim',
      channels: ['inbox'],
    }),
  );
  const notification = notified.notifications[0]!.notificationId;
  const flow = (
    await client(world, sealAdminA.token).post('/api/v1/flows', {
      companyId: a2.id,
      category: 'sales',
      name: 'Victim flow',
      definition: { levels: [{ name: 'Keeper', mode: 'any', approvers: [{ type: 'custodian' }] }] },
    })
  ).body.id as string;
  const victimApi = client(world, user.token);
  await victimApi.post('/api/v1/applications', {
    sealIds: [seal],
    category: 'sales',
    reason: 'Victim reason',
    uses: 2,
  });
  const firstTask = (await client(world, sealAdminA.token).get('/api/v1/tasks?status=pending')).body.items[0]
    .id as string;
  const authorization = (await client(world, sealAdminA.token).post(`/api/v1/tasks/${firstTask}/approve`, {})).body
    .authorizations[0].id as string;
  const application = (
    await victimApi.post('/api/v1/applications', {
      sealIds: [seal],
      category: 'sales',
      reason: 'Victim reason',
      uses: 1,
    })
  ).body.id as string;
  const task = (await client(world, sealAdminA.token).get('/api/v1/tasks?status=pending')).body.items[0].id as string;
  const delegation = (
    await victimApi.post('/api/v1/delegations', {
      delegateId: a.admin.id,
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '2036-01-01T00:00:00Z',
    })
  ).body.id as string;
  const image = (
    await client(world, sealAdminA.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '受害者贸易有限公司',
      type: '合同专用章',
    })
  ).body.sha256 as string;
  await world.db
    .updateTable('seals')
    .set({ image_sha256: image, image_media_type: 'image/png' })
    .where('id', '=', seal)
    .execute();
  const uploaded = await world.app.inject({
    method: 'POST',
    url: '/api/v1/documents/uploads?name=victim.pdf',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: buildPdf({ seed: 404 }),
  });
  const document = uploaded.json().sha256 as string;
  const signed = (
    await victimApi.post('/api/v1/signatures', {
      documentSha256: document,
      sealId: seal,
      category: 'sales',
      level: 'B-B',
    })
  ).body;
  const contract = (
    await victimApi.post('/api/v1/contracts', {
      title: 'Victim contract',
      category: 'sales',
      documentSha256: document,
      participants: [{ role: 'signer', step: 1, kind: 'outside_person', name: 'Victim party', phone: '13800000000' }],
    })
  ).body.id as string;
  await victimApi.post(`/api/v1/contracts/${contract}/send`, {});
  const template = (
    await client(world, sealAdminA.token).post('/api/v1/templates', {
      companyId: a2.id,
      name: 'Victim template',
      category: 'sales',
      source: { title: 'Victim', variables: [{ name: 'party', label: 'Party', type: 'text' }], body: '{{party}}' },
    })
  ).body.id as string;
  // A sampling review over the victim company's usage records (the signature above is one of them).
  const usageReview = (
    await client(world, sealAdminA.token).post('/api/v1/seal-usage/reviews', {
      companyId: a2.id,
      from: new Date(world.clock.now().getTime() - 86_400_000).toISOString(),
      to: new Date(world.clock.now().getTime() + 86_400_000).toISOString(),
      size: 5,
      reviewerId: sealAdminA.id,
    })
  ).body.id as string;
  for (const [name, value] of Object.entries({
    usageReview,
    contract,
    template,
    flow,
    authorization,
    application,
    task,
    delegation,
    image,
    document,
    signature: signed.id,
  }))
    if (!value) throw new Error(`victim ${name} was not created`);
  const auditEvent = (
    await world.db
      .selectFrom('audit_events')
      .select('seq')
      .where('group_id', '=', a.groupId)
      .where('company_id', '=', a2.id)
      .where('action', '=', 'department.created')
      .executeTakeFirstOrThrow()
  ).seq;
  victim = {
    auditEvent,
    groupId: a.groupId,
    hqId: a.hq.id,
    adminId: a.admin.id,
    company: a2.id,
    department,
    user: user.id,
    userEmail: user.email,
    session,
    assignment,
    apiKey,
    post,
    seal,
    grant,
    notification,
    flow,
    application,
    task,
    authorization,
    delegation,
    image,
    document,
    signature: signed.id,
    signedOutput: signed.outputSha256,
    certificateSerial: signed.certificateSerial,
    webhookEndpoint,
    webhookDelivery,
    contract,
    template,
    physicalSeal,
    device,
    deviceSerial,
    usageReview,
  };

  const siblingAdmin = await buildUser(world, {
    groupId: a.groupId,
    companyId: a1.id,
    roles: [{ role: 'system_admin' }],
  });
  const siblingAuditor = await buildUser(world, {
    groupId: a.groupId,
    companyId: a1.id,
    roles: [{ role: 'security_auditor' }],
  });
  const siblingSealAdmin = await buildUser(world, {
    groupId: a.groupId,
    companyId: a1.id,
    roles: [{ role: 'seal_admin' }],
  });
  const b = await buildGroup(world, 'Other Group');
  const bAuditor = await buildUser(world, {
    groupId: b.groupId,
    companyId: b.hq.id,
    roles: [{ role: 'security_auditor' }],
  });
  const bSealAdmin = await buildUser(world, {
    groupId: b.groupId,
    companyId: b.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  const bKey = (
    await client(world, b.admin.token).post('/api/v1/api-keys', {
      name: 'b key',
      companyId: b.hq.id,
      permissions: ['org.read', 'org.write', 'roles.assign', 'api_keys.manage', 'settings.write'],
    })
  ).body.secret as string;
  // The other group's administrator tries the attack on separation of duties in their own group:
  // empty the matrix, then give one new account every duty. The change waits for B's auditor.
  const bAdmin = client(world, b.admin.token);
  expect(
    (await bAdmin.post('/api/v1/settings/separation-of-duties/proposals', { pairs: [], reason: 'one admin' })).status,
  ).toBe(201);
  const bAccount = await buildUser(world, { groupId: b.groupId, companyId: b.hq.id, name: 'All duties' });
  for (const role of ['system_admin', 'seal_admin', 'security_auditor'])
    await bAdmin.post('/api/v1/role-assignments', { userId: bAccount.id, role, companyId: b.hq.id });
  siblingIds = [siblingAdmin.id, siblingAuditor.id, siblingSealAdmin.id];
  attackers = [
    { label: 'administrator of another group', token: b.admin.token, ownCompany: b.hq.id, sameGroup: false },
    { label: 'auditor of another group', token: bAuditor.token, ownCompany: b.hq.id, sameGroup: false },
    { label: 'API key of another group', token: bKey, ownCompany: b.hq.id, sameGroup: false, isApiKey: true },
    { label: 'seal administrator of another group', token: bSealAdmin.token, ownCompany: b.hq.id, sameGroup: false },
    {
      label: 'seal administrator of a sibling company',
      token: siblingSealAdmin.token,
      ownCompany: a1.id,
      sameGroup: true,
    },
    { label: 'administrator of a sibling company', token: siblingAdmin.token, ownCompany: a1.id, sameGroup: true },
    { label: 'auditor of a sibling company', token: siblingAuditor.token, ownCompany: a1.id, sameGroup: true },
  ];
});
afterAll(() => world.close());

function fill(url: string, params: Record<string, string> = {}): string {
  return url.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (!value) throw new Error(`probe for ${url} gives no value for :${name}`);
    return value;
  });
}

describe('tenant and company-subtree isolation', () => {
  it('has a probe for every endpoint the app serves', () => {
    const routes = world.app.routeTable
      .filter((r) => r.url.startsWith('/api/v1/') && !r.isPublic)
      .map((r) => `${r.method} ${r.url}`);
    const missing = routes.filter((r) => !(r in probes));
    expect(
      missing,
      `endpoints without an isolation probe (add them to test/isolation.test.ts): ${missing.join(', ')}`,
    ).toEqual([]);
    const stale = Object.keys(probes).filter((p) => !routes.includes(p));
    expect(stale, 'probes for endpoints that no longer exist').toEqual([]);
  });

  // Every endpoint for every attacker: minutes on a loaded two-core machine, not seconds.
  it('refuses every endpoint that names a victim object, and leaks nothing from lists, for every outside caller', async () => {
    const before = await snapshot(victim.groupId, siblingIds);
    const failures: string[] = [];
    for (const attacker of attackers) {
      const secrets = [
        victim.company,
        victim.department,
        victim.user,
        victim.userEmail,
        victim.session,
        victim.assignment,
        victim.apiKey,
        victim.post,
        victim.seal,
        victim.grant,
        victim.notification,
        'Victim Approver',
        'Victim Person',
        'Victim Company',
        'Victim Department',
        'Victim Seal',
        victim.flow,
        victim.application,
        victim.task,
        victim.authorization,
        victim.delegation,
        victim.image,
        'Victim reason',
        'Victim flow',
        victim.signature,
        victim.certificateSerial,
        victim.webhookEndpoint,
        victim.webhookDelivery,
        'victim-hooks.example',
        victim.physicalSeal,
        victim.device,
        victim.deviceSerial,
        victim.usageReview,
      ];
      if (!attacker.sameGroup) secrets.push(victim.groupId, victim.hqId, victim.adminId, 'Victim Group');
      // Sign-out ends the attacker's session; walk it last so every other probe runs authenticated.
      const keys = Object.keys(probes).sort((x, y) => Number(x.includes('sign-out')) - Number(y.includes('sign-out')));
      for (const key of keys) {
        const [method, url] = key.split(' ') as [string, string];
        for (const probe of probes[key]!(victim, attacker)) {
          const path = `${fill(url, probe.params)}${probe.query ? `?${probe.query}` : ''}`;
          const answer = await client(world, attacker.token).raw(
            method as 'GET',
            path,
            probe.body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}),
          );
          const text = JSON.stringify(answer.body);
          // An id the caller sent may be echoed back ("no user with id …"); anything else is a leak.
          const sent = `${path} ${JSON.stringify(probe.body ?? null)}`;
          const leaked = secrets.filter((s) => text.includes(s) && !sent.includes(s));
          const where = `${attacker.label}: ${method} ${path}`;
          if (leaked.length > 0) failures.push(`${where} leaked ${leaked.join(', ')} (status ${answer.status})`);
          if (probe.kind === 'target' && ![403, 404].includes(answer.status))
            failures.push(`${where} answered ${answer.status}, expected 403 or 404`);
          if (probe.kind === 'list' && answer.status >= 500) failures.push(`${where} answered ${answer.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshot(victim.groupId, siblingIds)).toEqual(before);
  }, 180_000);

  it('leaves no account holding two duties its group keeps apart, by SQL over every assignment', async () => {
    // Written by hand, not through the code under test: every pair of roles one person holds, against their group's matrix.
    const conflicting = sql<{ groupId: string; userId: string; first: string; second: string }>`
      select a.group_id as "groupId", a.user_id as "userId", a.role as first, b.role as second
        from role_assignments a
        join role_assignments b on b.user_id = a.user_id and a.role < b.role
        join groups g on g.id = a.group_id
       where exists (select 1 from jsonb_array_elements(g.sod_matrix) p
                      where (p->>0 = a.role and p->>1 = b.role) or (p->>0 = b.role and p->>1 = a.role))`;
    const assignments = await world.db.selectFrom('role_assignments').select('id').execute();
    expect(assignments.length).toBeGreaterThanOrEqual(10);
    expect((await conflicting.execute(world.db)).rows).toEqual([]);

    // The same query finds a conflict planted by hand (so an empty answer above means something).
    const planted = newId();
    const user = victim.user;
    await world.db
      .insertInto('role_assignments')
      .values({ id: planted, group_id: victim.groupId, user_id: user, role: 'seal_admin', company_id: victim.company })
      .execute();
    const plantedToo = newId();
    await world.db
      .insertInto('role_assignments')
      .values({
        id: plantedToo,
        group_id: victim.groupId,
        user_id: user,
        role: 'security_auditor',
        company_id: victim.company,
      })
      .execute();
    try {
      expect((await conflicting.execute(world.db)).rows).toEqual([
        { groupId: victim.groupId, userId: user, first: 'seal_admin', second: 'security_auditor' },
      ]);
    } finally {
      await world.db.deleteFrom('role_assignments').where('id', 'in', [planted, plantedToo]).execute();
    }
  });

  it('resolves an id of another group as not found, never as forbidden', async () => {
    const answer = await client(world, attackers[2]!.token).get(`/api/v1/users/${victim.user}`);
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('user_not_found');
    const unknown = await client(world, attackers[2]!.token).get(`/api/v1/users/${newId()}`);
    expect(unknown.body.detail.replace(/[0-9a-f-]{36}/, 'ID')).toBe(answer.body.detail.replace(/[0-9a-f-]{36}/, 'ID'));
  });

  it('lets an HQ administrator see every subsidiary', async () => {
    const hqAdmin = await sessionFor(world, victim.adminId);
    const users = await client(world, hqAdmin).get(`/api/v1/users?companyId=${victim.company}`);
    expect(users.body.items.map((u: { id: string }) => u.id)).toContain(victim.user);
  });
});
