/**
 * The two public routes the page calls, with plain fetch (no session, no cookies). The shapes are
 * the server's, from the generated OpenAPI types (type imports only: no console code is loaded).
 */
import type { components } from '../api/schema';

type Schemas = components['schemas'];
export type PublicVerification = Schemas['PublicVerification'];
export type PublicSignatureCheck = Schemas['PublicSignatureCheck'];
export type PublicLookup = Schemas['PublicDocumentLookup'];

/** The report on an OFD (`format: 'ofd'`): its GB/T 38540 seal signatures. */
export type OfdVerification = Schemas['PublicOfdVerification'];
export type OfdSignatureCheck = Schemas['PublicOfdSignatureCheck'];

export type AnyVerification = PublicVerification | OfdVerification;

export const isOfdReport = (report: AnyVerification): report is OfdVerification =>
  (report as { format?: string }).format === 'ofd';

/** An OFD by its name (browsers give no type for .ofd) or its zip signature. */
export const isOfdFile = (file: File) => /\.ofd$/i.test(file.name) || file.type === 'application/ofd';

/** The server refuses more; saying so before sending spares a phone the upload. */
export const MAX_BYTES = 20 * 1024 * 1024;

/** A problem the server answered (problem+json), or `network_error` when it could not be asked. */
export class VerifyProblem extends Error {
  constructor(
    readonly code: Schemas['Problem']['code'] | 'network_error' | 'unknown_error',
    readonly detail: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(detail);
  }
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, credentials: 'omit' });
  } catch (error) {
    throw new VerifyProblem('network_error', String(error));
  }
  if (response.ok) return (await response.json()) as T;
  const problem = (await response.json().catch(() => ({}))) as Partial<Schemas['Problem']>;
  const retry = Number(problem.retryAfterSeconds ?? response.headers.get('retry-after'));
  throw new VerifyProblem(
    problem.code ?? 'unknown_error',
    problem.detail ?? `${response.status} ${response.statusText}`,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}

export function verifyFile(file: File): Promise<AnyVerification> {
  return call('/api/v1/public/verifications', {
    method: 'POST',
    headers: { 'content-type': isOfdFile(file) ? 'application/ofd' : 'application/pdf' },
    body: file,
  });
}

/** The platform's record of a signed file by its SHA-256, or null when it signed no such file. */
export async function lookUpDocument(sha256: string): Promise<PublicLookup | null> {
  try {
    return await call<PublicLookup>(`/api/v1/public/verifications/${sha256}`, { method: 'GET' });
  } catch (error) {
    if (error instanceof VerifyProblem && error.code === 'document_not_found') return null;
    throw error;
  }
}
