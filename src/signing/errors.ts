// The engine's own failures: a code and a message a person can act on. The engine knows nothing of
// HTTP; the server maps each code to its problem type and status (src/server/errors.ts), and the
// CLI prints the message.

/** What the engine can refuse; every code is also one of the server's error catalogue. */
export type SigningErrorCode =
  | 'validation_failed'
  | 'signing_key_invalid'
  | 'key_password_invalid'
  | 'signer_unavailable'
  | 'certificate_expired'
  | 'certificate_revoked'
  | 'timestamp_unavailable'
  | 'pdf_malformed'
  | 'seal_malformed'
  | 'pdf_encrypted'
  | 'pdf_too_large'
  | 'pdf_page_not_found'
  | 'pdf_keyword_not_found'
  | 'image_invalid'
  | 'internal_error';

export class SigningError extends Error {
  constructor(
    readonly code: SigningErrorCode,
    message: string,
    readonly details: { errors?: Array<{ field: string; message: string }>; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'SigningError';
  }
}
