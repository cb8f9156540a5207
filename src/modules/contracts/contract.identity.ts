// Identity providers (实名认证, 人脸识别): an outside signer of a contract that asks for a check
// passes it through a provider outside Sigil before signing. None is built in: a deployment
// registers its own implementation at start-up and names it in SIGIL_IDENTITY_PROVIDER; by default
// none is configured, and a contract asking for a check cannot be sent.
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';

export type IdentityCheckKind = 'real_name' | 'face';

/** Who is to be checked: what the sender gave for them, and where the check is asked from. */
export interface IdentityCheckRequest {
  kind: IdentityCheckKind;
  contractId: string;
  participantId: string;
  name: string;
  orgName: string | null;
  phone: string | null;
  email: string | null;
}

export interface IdentityVerdict {
  status: 'pending' | 'passed' | 'failed';
  /** Why it failed, in words the signer may read. */
  reason?: string | null;
  /** What the provider attests (its transaction number, the method, a score): kept in the audit trail. */
  evidence?: Record<string, unknown>;
}

/** A real-name or face check run by someone outside Sigil; its verdict may come later. */
export interface IdentityProvider {
  /** The name SIGIL_IDENTITY_PROVIDER picks it by, recorded with every check. */
  readonly name: string;
  /** Which checks it runs. */
  readonly kinds: readonly IdentityCheckKind[];
  /** Starts a check: the provider's reference, and where the signer goes to take it (a face check in its app). */
  start(request: IdentityCheckRequest): Promise<{ reference: string; redirectUrl?: string | null }>;
  /** The verdict so far on a check it started. */
  verdict(reference: string): Promise<IdentityVerdict>;
}

const providers = new Map<string, IdentityProvider>();

/** Makes a provider available by its name; naming another provider the same is refused. */
export function registerIdentityProvider(provider: IdentityProvider): void {
  const known = providers.get(provider.name);
  if (known && known !== provider) throw new Error(`An identity provider named ${provider.name} is already registered`);
  providers.set(provider.name, provider);
}

/** The configured provider, or null when none is configured; a name with no provider behind it is refused. */
export function configuredIdentityProvider(ctx: AppContext): IdentityProvider | null {
  const name = ctx.config.identityProvider;
  if (!name) return null;
  const provider = providers.get(name);
  if (!provider)
    throw new AppError(
      'identity_provider_missing',
      `SIGIL_IDENTITY_PROVIDER names ${name}, but no identity provider of that name is registered.`,
    );
  return provider;
}

/**
 * The provider that started a check: its reference means something only there, whatever the
 * deployment has configured since.
 */
export function providerOfCheck(check: StoredIdentityCheck): IdentityProvider {
  const provider = providers.get(check.provider);
  if (!provider)
    throw new AppError(
      'identity_provider_missing',
      `The identity check was started with ${check.provider}, which is no longer registered.`,
    );
  return provider;
}

/** The provider a contract's check needs, or the error that says why it cannot be had. */
export function providerFor(ctx: AppContext, kind: IdentityCheckKind): IdentityProvider {
  const provider = configuredIdentityProvider(ctx);
  if (!provider)
    throw new AppError(
      'identity_provider_missing',
      `This contract asks outside signers for a ${kind === 'face' ? 'face' : 'real-name'} check, but no identity provider is configured (SIGIL_IDENTITY_PROVIDER).`,
    );
  if (!provider.kinds.includes(kind))
    throw new AppError(
      'identity_provider_missing',
      `The identity provider ${provider.name} does not run ${kind === 'face' ? 'face' : 'real-name'} checks.`,
    );
  return provider;
}

/** An identity check as kept on the participant. */
export interface StoredIdentityCheck {
  kind: IdentityCheckKind;
  provider: string;
  reference: string;
  status: IdentityVerdict['status'];
  reason: string | null;
  evidence: Record<string, unknown>;
  /** Where the signer takes the check, as the provider said when it started. */
  redirectUrl: string | null;
  startedAt: string;
  decidedAt: string | null;
}
