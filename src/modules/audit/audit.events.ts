import { z } from 'zod';

/**
 * Every kind of audit event, each with the schema of what it records. Written
 * through `recordAudit` only; rows are re-validated against these when read.
 */
const role = z.enum(['system_admin', 'seal_admin', 'security_auditor', 'employee']);
const userStatus = z.enum(['active', 'suspended', 'resigned']);

export const auditEventSchemas = {
  'group.created': z.object({ name: z.string(), slug: z.string() }),
  'group.sod_matrix_changed': z.object({ from: z.array(z.tuple([role, role])), to: z.array(z.tuple([role, role])) }),
  'company.created': z.object({ name: z.string(), code: z.string(), parentId: z.string().nullable() }),
  'company.updated': z.object({ from: z.record(z.string(), z.unknown()), to: z.record(z.string(), z.unknown()) }),
  'department.created': z.object({ name: z.string(), companyId: z.string(), headUserId: z.string().nullable() }),
  'department.updated': z.object({ from: z.record(z.string(), z.unknown()), to: z.record(z.string(), z.unknown()) }),
  'user.created': z.object({
    email: z.string(),
    name: z.string(),
    companyId: z.string(),
    departmentId: z.string().nullable(),
    serviceAccount: z.boolean().optional(),
  }),
  'user.updated': z.object({ from: z.record(z.string(), z.unknown()), to: z.record(z.string(), z.unknown()) }),
  'user.status_changed': z.object({
    from: userStatus,
    to: userStatus,
    reason: z.string().nullable(),
    sessionsEnded: z.number(),
  }),
  'user.post_added': z.object({
    postId: z.string(),
    companyId: z.string(),
    departmentId: z.string().nullable(),
    title: z.string(),
  }),
  'user.post_removed': z.object({ postId: z.string() }),
  'user.password_changed': z.object({ by: z.enum(['self', 'administrator']) }),
  'user.unlocked': z.object({}),
  'user.totp_enabled': z.object({}),
  'user.totp_disabled': z.object({}),
  'role.assigned': z.object({ assignmentId: z.string(), role, companyId: z.string() }),
  'role.revoked': z.object({ assignmentId: z.string(), role, companyId: z.string() }),
  'auth.signed_in': z.object({ sessionId: z.string(), secondFactor: z.boolean() }),
  'auth.sign_in_failed': z.object({
    reason: z.enum(['bad_password', 'bad_totp', 'locked', 'inactive']),
    failedAttempts: z.number(),
  }),
  'auth.locked_out': z.object({ until: z.string(), failedAttempts: z.number() }),
  'auth.signing_factor_failed': z.object({ failedAttempts: z.number() }),
  'auth.signed_out': z.object({ sessionId: z.string() }),
  'session.revoked': z.object({ sessionId: z.string() }),
  'api_key.created': z.object({
    name: z.string(),
    companyId: z.string(),
    permissions: z.array(z.string()),
    expiresAt: z.string().nullable(),
    serviceAccountId: z.string().optional(),
  }),
  'api_key.revoked': z.object({ name: z.string() }),
  'webhook.endpoint_created': z.object({
    companyId: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
  }),
  'webhook.endpoint_updated': z.object({
    from: z.record(z.string(), z.unknown()),
    to: z.record(z.string(), z.unknown()),
  }),
  'webhook.endpoint_deleted': z.object({ url: z.string() }),
  /** The secrets themselves are never recorded: only until when the previous one still signs. */
  'webhook.secret_rotated': z.object({ previousValidUntil: z.string() }),
  'webhook.delivery_redelivered': z.object({ deliveryId: z.string(), messageId: z.string(), eventType: z.string() }),
  'seal.created': z.object({
    name: z.string(),
    code: z.string(),
    kind: z.string(),
    type: z.string(),
    companyId: z.string(),
    status: z.string(),
    custodianIds: z.array(z.string()),
  }),
  'seal.custodian_needed': z.object({ formerCustodianId: z.string() }),
  'seal.lifecycle_applied': z.object({
    step: z.string(),
    applicationId: z.string(),
    from: z.string(),
    changes: z.record(z.string(), z.unknown()),
  }),
  'seal.grant_created': z.object({
    grantId: z.string(),
    grantee: z.object({
      type: z.enum(['user', 'department', 'role']),
      id: z.string().nullable(),
      role: z.string().nullable(),
    }),
    categories: z.array(z.string()),
    validFrom: z.string(),
    validUntil: z.string().nullable(),
    maxUses: z.number().nullable(),
  }),
  'seal.grant_revoked': z.object({ grantId: z.string(), reason: z.string().nullable() }),
  'flow.created': z.object({
    name: z.string(),
    purpose: z.string(),
    category: z.string().nullable(),
    sealId: z.string().nullable(),
    version: z.number(),
  }),
  'flow.updated': z.object({ name: z.string(), version: z.number() }),
  'flow.archived': z.object({ name: z.string() }),
  'application.submitted': z.object({
    purpose: z.string(),
    category: z.string().nullable(),
    sealIds: z.array(z.string()),
    uses: z.number(),
    flowVersionId: z.string(),
    levels: z.number(),
  }),
  'application.task_approved': z.object({
    taskId: z.string(),
    level: z.number(),
    comment: z.string().nullable(),
    onBehalfOf: z.string().nullable(),
  }),
  'application.task_rejected': z.object({
    taskId: z.string(),
    level: z.number(),
    reason: z.string(),
    onBehalfOf: z.string().nullable(),
  }),
  'application.task_transferred': z.object({
    taskId: z.string(),
    level: z.number(),
    toUserId: z.string(),
    comment: z.string().nullable(),
  }),
  'application.level_completed': z.object({ level: z.number() }),
  'application.approved': z.object({ authorizationIds: z.array(z.string()) }),
  'application.rejected': z.object({ level: z.number(), reason: z.string() }),
  'application.withdrawn': z.object({}),
  'application.level_escalated': z.object({ level: z.number(), toLevel: z.number(), waitingHours: z.number() }),
  'authorization.revoked': z.object({ authorizationId: z.string(), remainingUses: z.number() }),
  'delegation.created': z.object({
    delegationId: z.string(),
    delegateId: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
  }),
  'delegation.revoked': z.object({ delegationId: z.string() }),
  'pki.ca_created': z.object({
    certificateId: z.string(),
    subject: z.string(),
    serial: z.string(),
    keySpec: z.string(),
    keyStore: z.enum(['database', 'pkcs11']),
  }),
  'pki.certificate_issued': z.object({
    certificateId: z.string(),
    purpose: z.enum(['seal', 'person', 'event', 'sm2_seal', 'sm2_seal_maker']),
    subject: z.string(),
    serial: z.string(),
    keySpec: z.string(),
    /** `none`: a one-time certificate whose key was never kept. */
    keyStore: z.enum(['database', 'pkcs11', 'none']),
    notAfter: z.string(),
    /** For a one-time certificate: how the person proved who they were. */
    evidence: z.string().optional(),
  }),
  'pki.certificate_imported': z.object({
    certificateId: z.string(),
    subject: z.string(),
    issuer: z.string(),
    serial: z.string(),
    notAfter: z.string(),
    replaces: z.string().nullable(),
  }),
  'pki.certificate_revoked': z.object({
    certificateId: z.string(),
    serial: z.string(),
    reason: z.string(),
    cause: z.string(),
  }),
  /** A GB/T 38540 seal (.esl) made for an electronic seal by the group's SM2 CA. */
  'pki.esl_issued': z.object({
    eslId: z.string(),
    esId: z.string(),
    certificateId: z.string(),
    makerId: z.string(),
    sha256: z.string(),
    validStart: z.string(),
    validEnd: z.string(),
  }),
  'pki.certificate_reinstated': z.object({ certificateId: z.string(), serial: z.string(), cause: z.string() }),
  'document.signed': z.object({
    signatureId: z.string(),
    certificateId: z.string(),
    serial: z.string(),
    authorizationId: z.string().nullable(),
    grantId: z.string().nullable(),
    category: z.string().nullable(),
    level: z.string(),
    fieldName: z.string(),
    inputSha256: z.string(),
    outputSha256: z.string(),
    originalSha256: z.string(),
  }),
  'signature.batch_started': z.object({
    batchId: z.string(),
    documents: z.number(),
    category: z.string(),
    level: z.string(),
  }),
  'template.created': z.object({ templateId: z.string(), name: z.string(), category: z.string() }),
  'template.version_added': z.object({ templateId: z.string(), version: z.number() }),
  'contract.created': z.object({
    title: z.string(),
    sourceSha256: z.string(),
    templateVersionId: z.string().nullable(),
    participants: z.number(),
  }),
  'contract.sent': z.object({ step: z.number() }),
  'contract.step_opened': z.object({ step: z.number() }),
  'contract.link_issued': z.object({ participantId: z.string(), expiresAt: z.string() }),
  'contract.code_sent': z.object({ participantId: z.string(), channel: z.enum(['sms', 'email']) }),
  'contract.code_failed': z.object({ participantId: z.string(), attempts: z.number(), locked: z.boolean() }),
  'contract.identity_verified': z.object({
    participantId: z.string(),
    method: z.string(),
    channel: z.enum(['sms', 'email', 'session']),
    consent: z.boolean(),
    ip: z.string().nullable(),
  }),
  'contract.signed': z.object({
    participantId: z.string(),
    signatureId: z.string().nullable(),
    certificateId: z.string(),
    fieldName: z.string(),
    inputSha256: z.string(),
    outputSha256: z.string(),
    secondFactor: z.enum(['totp']).nullable().optional(),
  }),
  'contract.approved': z.object({ participantId: z.string() }),
  'contract.rejected': z.object({ participantId: z.string().nullable(), reason: z.string() }),
  'contract.completed': z.object({ outputSha256: z.string() }),
  'contract.voided': z.object({
    reason: z.string(),
    agreementId: z.string().optional(),
    agreementSha256: z.string().optional(),
  }),
  'contract.policy_changed': z.object({ requireSecondFactor: z.boolean() }),
  'contract.void_agreement_started': z.object({ agreementId: z.string(), reason: z.string() }),
  'contract.attachment_added': z.object({
    attachmentId: z.string(),
    sha256: z.string(),
    name: z.string(),
    mediaType: z.string(),
    size: z.number(),
  }),
  'contract.cc_notified': z.object({ participantIds: z.array(z.string()) }),
  'contract.receiver_link_issued': z.object({ participantId: z.string(), expiresAt: z.string() }),
  'contract.downloaded': z.object({ participantId: z.string(), sha256: z.string() }),
  'contract.identity_check_started': z.object({
    participantId: z.string(),
    kind: z.enum(['real_name', 'face']),
    provider: z.string(),
    reference: z.string(),
  }),
  'contract.identity_check_decided': z.object({
    participantId: z.string(),
    kind: z.enum(['real_name', 'face']),
    provider: z.string(),
    reference: z.string(),
    verdict: z.enum(['passed', 'failed']),
    reason: z.string().nullable(),
    evidence: z.record(z.string(), z.unknown()),
  }),
  'contract.expired': z.object({ deadline: z.string() }),
  'contract.reminded': z.object({ participantIds: z.array(z.string()), manual: z.boolean() }),
  'device.registered': z.object({ serial: z.string(), sealId: z.string(), keyId: z.string() }),
  'device.ticket_issued': z.object({
    ticketId: z.string(),
    mode: z.enum(['use', 'maintenance']),
    authorizationId: z.string().nullable(),
    uses: z.number(),
    notAfter: z.string(),
  }),
  'device.remote_lock_changed': z.object({ locked: z.boolean() }),
  'device.findings_raised': z.object({
    findings: z.array(z.object({ id: z.string(), kind: z.string(), severity: z.string(), seq: z.number().nullable() })),
  }),
  'device.usage_corrected': z.object({
    correctionId: z.string(),
    recordId: z.string(),
    what: z.string(),
    why: z.string(),
  }),
  'device.usage_review_drawn': z.object({
    reviewId: z.string(),
    reviewerId: z.string(),
    sealId: z.string().nullable(),
    from: z.string(),
    to: z.string(),
    size: z.number(),
    population: z.number(),
  }),
  'device.usage_review_decided': z.object({
    reviewId: z.string(),
    position: z.number(),
    recordId: z.string(),
    decision: z.enum(['confirmed', 'flagged']),
    comment: z.string().nullable(),
  }),
} as const;

export type AuditAction = keyof typeof auditEventSchemas;
export const auditActions = Object.keys(auditEventSchemas) as AuditAction[];

export type AuditTargetType =
  | 'group'
  | 'company'
  | 'department'
  | 'user'
  | 'role_assignment'
  | 'session'
  | 'api_key'
  | 'webhook_endpoint'
  | 'seal'
  | 'flow'
  | 'application'
  | 'delegation'
  | 'certificate'
  | 'template'
  | 'contract'
  | 'device'
  | 'usage_review';

/** One audit event as a service writes it: a discriminated union on `action`. */
export type AuditEvent = {
  [A in AuditAction]: {
    action: A;
    target: { type: AuditTargetType; id: string | null };
    /** The company the event concerns, so subtree auditors see it; null for group-wide events. */
    companyId: string | null;
    changes: z.infer<(typeof auditEventSchemas)[A]>;
  };
}[AuditAction];
