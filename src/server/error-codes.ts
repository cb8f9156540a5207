// The error catalogue on its own, with no imports: the console's tests read it beside the console's
// own wording of each code.

/**
 * The closed catalogue of error codes Sigil answers with, each mapped to its
 * HTTP status in one table. `satisfies` makes a code without a status a compile error.
 */
export const errorStatus = {
  validation_failed: 400,
  malformed_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthenticated: 401,
  invalid_credentials: 401,
  invalid_totp: 401,
  mfa_required: 401,
  forbidden: 403,
  self_assignment_forbidden: 403,
  password_change_required: 403,
  route_not_found: 404,
  group_not_found: 404,
  company_not_found: 404,
  department_not_found: 404,
  user_not_found: 404,
  role_assignment_not_found: 404,
  session_not_found: 404,
  api_key_not_found: 404,
  notification_not_found: 404,
  blob_not_found: 404,
  seal_not_found: 404,
  grant_not_found: 404,
  seal_not_usable: 409,
  seal_code_taken: 409,
  flow_not_found: 404,
  application_not_found: 404,
  task_not_found: 404,
  authorization_not_found: 404,
  delegation_not_found: 404,
  certificate_not_found: 404,
  signature_not_found: 404,
  audit_event_not_found: 404,
  audit_checkpoint_not_found: 404,
  audit_event_not_covered: 409,
  seal_not_granted: 403,
  task_not_yours: 403,
  document_not_authorized: 403,
  no_flow_configured: 409,
  flow_conflict: 409,
  approver_unresolvable: 409,
  task_already_decided: 409,
  approver_already_decided: 409,
  application_changed: 409,
  application_not_pending: 409,
  authorization_exhausted: 409,
  authorization_revoked: 409,
  seal_not_electronic: 409,
  sod_conflict: 409,
  sod_change_pending: 409,
  email_taken: 409,
  company_code_taken: 409,
  department_name_taken: 409,
  role_already_assigned: 409,
  company_move_cycle: 409,
  user_resigned: 409,
  totp_already_enabled: 409,
  totp_not_enabled: 409,
  pdf_malformed: 422,
  pdf_encrypted: 422,
  pdf_page_not_found: 422,
  pdf_keyword_not_found: 422,
  image_invalid: 422,
  image_unsafe: 422,
  signing_key_invalid: 422,
  key_password_invalid: 422,
  certificate_expired: 422,
  certificate_revoked: 422,
  pdf_too_large: 413,
  blob_too_large: 413,
  image_too_large: 413,
  file_type_mismatch: 422,
  rate_limited: 429,
  internal_error: 500,
  timestamp_unavailable: 502,
  service_unavailable: 503,
  signer_unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorStatus;

export const errorCodes = Object.keys(errorStatus) as ErrorCode[];

/**
 * What a problem of some codes carries beside its English `detail`: values a client words in its
 * own language (the console's Chinese) instead of showing the English sentence. Every AppError of
 * such a code must give them (checked when compiling); times are ISO 8601, for the client to show
 * in the reader's zone and format.
 */
export const problemParams = {
  rate_limited: ['retryAfterSeconds'],
  seal_not_usable: ['sealName', 'sealStatus'],
  seal_not_granted: ['sealName'],
  seal_code_taken: ['sealCode'],
  approver_unresolvable: ['level'],
  email_taken: ['email'],
  company_code_taken: ['companyCode'],
  department_name_taken: ['name'],
  user_resigned: ['name'],
  pdf_page_not_found: ['page'],
  pdf_keyword_not_found: ['keyword'],
  certificate_expired: ['notBefore', 'notAfter'],
} as const satisfies Partial<Record<ErrorCode, readonly string[]>>;
