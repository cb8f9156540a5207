import { SigningError, type SigningErrorCode } from '../errors.js';

/** The typed failures of reading and writing PDFs; each is a code of the error catalogue. */
export type PdfErrorCode = Extract<
  SigningErrorCode,
  'pdf_malformed' | 'pdf_encrypted' | 'pdf_too_large' | 'pdf_page_not_found' | 'pdf_keyword_not_found' | 'image_invalid'
>;

/** `params`: what a client needs to word the problem in its reader's language (the page asked for). */
export function pdfError(code: PdfErrorCode, detail: string, params: Record<string, string | number> = {}): never {
  const prefix =
    code === 'pdf_malformed' ? 'The PDF cannot be read: ' : code === 'pdf_too_large' ? 'The PDF exceeds a limit: ' : '';
  throw new SigningError(code, `${prefix}${detail}.`, params);
}
