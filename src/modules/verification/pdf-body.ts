// The PDF a visitor sends: the request body itself (application/pdf, as the console sends it), or
// the `file` field of a multipart/form-data form (what a plain HTML form or `curl -F` sends). The
// body is already read, under the route's limit; this only finds the file in it and checks it is
// a PDF. Nothing is written anywhere.
import { sniffMediaType } from '../../blobs/sniff.js';
import { looksLikeZip } from '../documents/index.js';
import { AppError } from '../../server/errors.js';

const CRLF_CRLF = Buffer.from('\r\n\r\n');

function sendThePdf(message: string, field = 'body'): AppError {
  return new AppError(
    'validation_failed',
    `${message} Send the PDF as the request body (Content-Type: application/pdf) or as the "file" field of a multipart/form-data form.`,
    { errors: [{ field, message: field === 'body' ? 'is empty' : 'is required' }] },
  );
}

/** The boundary of a multipart/form-data Content-Type (RFC 7578 §4.1, RFC 2046 §5.1.1). */
function boundaryOf(contentType: string): string | null {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

/**
 * The content of the form's `file` part, or of its first part that carries a filename. A part ends
 * where CRLF and the next delimiter begin; a form without a closing delimiter is refused rather
 * than guessed at.
 */
function filePart(body: Buffer, boundary: string): Buffer | null {
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  let fallback: Buffer | null = null;
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    // "--" after the delimiter closes the form.
    if (body[afterDelimiter] === 0x2d && body[afterDelimiter + 1] === 0x2d) break;
    const headersEnd = body.indexOf(CRLF_CRLF, afterDelimiter);
    if (headersEnd < 0) break;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headersEnd + 4);
    if (next < 0) break;
    const headers = body.subarray(afterDelimiter, headersEnd).toString('latin1');
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers)?.[1] ?? '';
    const content = body.subarray(headersEnd + 4, next);
    if (/(?:^|;)\s*name="file"/i.test(disposition)) return content;
    if (fallback === null && /(?:^|;)\s*filename\*?=/i.test(disposition)) fallback = content;
    at = next + 2;
  }
  return fallback;
}

/** The uploaded PDF or OFD (a zip package, read and checked by the OFD verifier), or a problem that says what to send instead. */
export function documentOfRequest(
  body: unknown,
  contentType: string | undefined,
): { bytes: Buffer; format: 'pdf' | 'ofd' } {
  const bytes = fileOfRequest(body, contentType);
  if (looksLikeZip(bytes)) return { bytes, format: 'ofd' };
  if (sniffMediaType(bytes) !== 'application/pdf')
    throw new AppError(
      'pdf_malformed',
      'The file is not a PDF (it does not begin with %PDF-) nor an OFD (a zip package with OFD.xml).',
    );
  return { bytes, format: 'pdf' };
}

function fileOfRequest(body: unknown, contentType: string | undefined): Buffer {
  if (!Buffer.isBuffer(body) || body.length === 0) throw sendThePdf('The request has no body.');
  let pdf = body;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'multipart/form-data') {
    const boundary = boundaryOf(contentType ?? '');
    const file = boundary ? filePart(body, boundary) : null;
    if (!file || file.length === 0) throw sendThePdf('The form has no file.', 'body.file');
    pdf = file;
  }
  return pdf;
}
