import { applicationPurposes, isDocumentOfApplicationOf, sealUsePurpose } from '../modules/approvals/index.js';
import { revokePersonCertificates } from '../modules/pki/index.js';
import { isImageOfApplicationFor, sealLifecyclePurpose } from '../modules/seal-lifecycle/index.js';
import { flagSealsOfResignedCustodian, sealImageReaders } from '../modules/seals/index.js';
import { documentOrigins, documentReaders } from '../modules/documents/index.js';
import { findOriginals, hasSignedChain } from '../modules/signatures/index.js';
import { sodChangePurpose } from '../modules/sod-changes/index.js';
import { departureHooks } from '../modules/users/index.js';
import { findContractSources, isPartyToContractOf, isSealImageOfContractFor } from '../modules/contracts/index.js';

/**
 * Fills every extension point a lower module declares with what the modules above it provide, so
 * that no module reaches up the layers (`test/module-graph.test.ts`). Called by `buildApp` and by
 * every entry point that uses the services without it; calling it again changes nothing.
 */
export function wireModules(): void {
  applicationPurposes.fill({
    [sealUsePurpose.name]: sealUsePurpose,
    [sealLifecyclePurpose.name]: sealLifecyclePurpose,
    [sodChangePurpose.name]: sodChangePurpose,
  });
  departureHooks.fill({
    'seals.custodian-flagged': flagSealsOfResignedCustodian,
    'pki.person-certificates-revoked': revokePersonCertificates,
  });
  documentOrigins.fill({ 'signatures.original': findOriginals, 'contracts.source': findContractSources });
  documentReaders.fill({
    'signatures.signed-chain': hasSignedChain,
    'approvals.participants': isDocumentOfApplicationOf,
    'contracts.parties': isPartyToContractOf,
  });
  sealImageReaders.fill({
    'seal-lifecycle.participants': isImageOfApplicationFor,
    'contracts.stampers': isSealImageOfContractFor,
  });
}
