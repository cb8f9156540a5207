/**
 * The outside signer's routes (/api/v1/signing/…), with plain fetch: no account, no cookies. The
 * link's token opens the invitation; the code turns it into a signing session, sent back in the
 * `X-Signing-Session` header. Shapes are the server's, from the generated OpenAPI types (type
 * imports only: none of the console's code is loaded).
 */
import type { components, paths } from '../api/schema';

type Json<P extends keyof paths, M extends 'get' | 'post'> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer T } } };
}
  ? T
  : never;

export type Invitation = Json<'/api/v1/signing/{token}', 'get'>;
export type CodeSent = Json<'/api/v1/signing/{token}/codes', 'post'>;
export type Session = Json<'/api/v1/signing/{token}/sessions', 'post'>;
export type SignerView = Json<'/api/v1/signing/session', 'get'>;
export type SignerField = SignerView['fields'][number];
export type Channel = Invitation['channels'][number];

/** A problem the server answered (problem+json), or `network_error` when it could not be asked. */
export class SignProblem extends Error {
  constructor(
    readonly code: components['schemas']['Problem']['code'] | 'network_error' | 'unknown_error',
    readonly detail: string,
    /** The problem's parameters beside `detail` (remainingAttempts, retryAfterSeconds, status, …). */
    readonly params: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  number(name: string): number | null {
    const value = Number(this.params[name]);
    return Number.isFinite(value) ? value : null;
  }
}

export const asProblem = (error: unknown): SignProblem =>
  error instanceof SignProblem ? error : new SignProblem('unknown_error', String(error));

async function send(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    throw new SignProblem('network_error', String(error));
  }
  if (response.ok) return response;
  const problem = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const retry = response.headers.get('retry-after');
  throw new SignProblem(
    (problem.code as SignProblem['code'] | undefined) ?? 'unknown_error',
    typeof problem.detail === 'string' ? problem.detail : `${response.status} ${response.statusText}`,
    { ...(retry ? { retryAfterSeconds: Number(retry) } : {}), ...problem },
  );
}

const json = async <T>(url: string, init: RequestInit): Promise<T> => (await (await send(url, init)).json()) as T;

const post = (body: unknown, session?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(session ? { 'x-signing-session': session } : {}) },
  body: JSON.stringify(body),
});

const base = (token: string) => `/api/v1/signing/${encodeURIComponent(token)}`;

export const openInvitation = (token: string) => json<Invitation>(base(token), { method: 'GET' });

export const sendCode = (token: string, channel: Channel) => json<CodeSent>(`${base(token)}/codes`, post({ channel }));

export const openSession = (token: string, input: { code: string; channel: Channel; consent: boolean }) =>
  json<Session>(`${base(token)}/sessions`, post(input));

export const getSignerView = (session: string) =>
  json<SignerView>('/api/v1/signing/session', { method: 'GET', headers: { 'x-signing-session': session } });

export async function getDocument(session: string): Promise<Uint8Array> {
  const response = await send('/api/v1/signing/session/document', {
    method: 'GET',
    headers: { 'x-signing-session': session },
  });
  return new Uint8Array(await response.arrayBuffer());
}

export const signDocument = (
  session: string,
  input: { signatureImage: string; fields: Array<{ id: string; value: string }> },
) => json<{ signatures: number }>('/api/v1/signing/session/signatures', post(input, session));

export const rejectDocument = (session: string, reason: string) =>
  json<{ rejected: boolean }>('/api/v1/signing/session/rejection', post({ reason }, session));

/**
 * The session kept for this tab only, by link: the code spends the link, so a reload (or a phone
 * that dropped the page) resumes the session instead of meeting a used link. Gone with the tab.
 */
const sessionKey = (token: string) => `sigil.signing.${token}`;

export function storedSession(token: string, now = Date.now()): string | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(sessionKey(token)) ?? 'null') as Session | null;
    return saved && Date.parse(saved.expiresAt) > now ? saved.sessionToken : null;
  } catch {
    return null;
  }
}

export function storeSession(token: string, session: Session | null): void {
  try {
    if (session) sessionStorage.setItem(sessionKey(token), JSON.stringify(session));
    else sessionStorage.removeItem(sessionKey(token));
  } catch {
    // Storage refused (a private window): the session lasts while the page stays open.
  }
}

/** The identity check a contract may ask for (not in the generated types until they are regenerated). */
export interface IdentityCheck {
  kind: 'real_name' | 'face' | null;
  status: 'none' | 'pending' | 'passed' | 'failed';
  reason: string | null;
  redirectUrl: string | null;
}

export const getIdentityCheck = (session: string) =>
  json<IdentityCheck>('/api/v1/signing/session/identity-checks', {
    method: 'GET',
    headers: { 'x-signing-session': session },
  });

export const startIdentityCheck = (session: string) =>
  json<IdentityCheck>('/api/v1/signing/session/identity-checks', post({}, session));
