// Certification path validation, RFC 5280 §6.1, for the verifier: which certificate paths lead from
// a signer's certificate to a trust anchor, and whether one of them holds at the time that counts —
// signatures under an allow-list of algorithms and key sizes, validity, revocation by CRLs that
// themselves validate, name chaining, basic constraints and path length, key usage, name
// constraints, certificate policies, and no critical extension left unprocessed — and whether the
// end certificate may do what it did (sign documents, or time-stamp: RFC 3161 §2.3).
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asnX509 from '@peculiar/asn1-x509';
import { OID } from './oids.js';
import { isSm2Spki, sm2PointOf } from './sm2.js';
import {
  canonicalRdns,
  publicKeyOf,
  sameName,
  signatureSchemeOf,
  signedBy,
  type Certificate,
  type Crl,
} from './x509.js';

/** What the end certificate is used for. */
export type Purpose = 'document-signing' | 'timestamping';

export interface PathValidationInput {
  /** The end certificate (the signer's, or the TSA's). */
  leaf: Certificate;
  /** Certificates that may be intermediates (from the CMS, the DSS, the platform). */
  pool: Certificate[];
  /** Trust anchors: self-signed roots, trusted by their name and key. */
  anchors: Certificate[];
  /** The time that counts: the signature time-stamp's time, else now. */
  at: Date;
  purpose: Purpose;
  /** CRLs to consult; only those that validate are used. */
  crls: Crl[];
}

export type RevocationStatus = 'good' | 'revoked' | 'unknown';

export interface PathValidationResult {
  /** A path to a trust anchor exists and every check of RFC 5280 §6.1 holds (revocation aside unless revoked). */
  valid: boolean;
  /** Whether any path to a trust anchor was found at all, valid or not. */
  anchored: boolean;
  /** The path checked (end certificate first, anchor last), or the longest chain found. */
  path: Certificate[];
  /** Why the path fails, in words a person can act on. */
  problems: string[];
  revocation: RevocationStatus;
  /** Revocation problems that leave the status unknown (no usable CRL), informative. */
  revocationNotes: string[];
  /** Every certificate of the path valid at `at`. */
  validAtTime: boolean;
}

/** Extended key usages that let a certificate sign documents (RFC 9336, Adobe, Microsoft, S/MIME). */
const DOCUMENT_SIGNING_EKUS = new Set<string>([
  OID.anyExtendedKeyUsage,
  OID.kpDocumentSigning,
  OID.kpEmailProtection,
  OID.adobeAuthenticDocumentsTrust,
  OID.msDocumentSigning,
]);

/** The extensions this validator processes; any other marked critical fails the path (§6.1.4(o), §6.1.5(f)). */
const PROCESSED_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.policyMappings,
  OID.policyConstraints,
  OID.inhibitAnyPolicy,
  OID.crlDistributionPoints,
]);

const MAX_PATH = 8;
const MAX_PATHS_TRIED = 64;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 16384;
const ALLOWED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** Whether a public key is one this engine accepts (RSA ≥ 2048 bits, NIST P-256/384/521, SM2); a reason if not. */
export function checkPublicKey(spki: Buffer): string | null {
  // Node reads an SM2 key without naming its type, so SM2 is recognised by its curve first.
  if (isSm2Spki(spki)) return sm2PointOf(spki) ? null : 'its SM2 public key is not a point on the curve';
  let key;
  try {
    key = publicKeyOf(spki);
  } catch {
    return 'its public key cannot be read';
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) return `its RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required`;
    if (bits > MAX_RSA_BITS) return `its RSA key has ${bits} bits; at most ${MAX_RSA_BITS} are accepted`;
    if ((details.publicExponent ?? 0n) < 3n || (details.publicExponent ?? 0n) % 2n === 0n)
      return 'its RSA public exponent is not acceptable';
    return null;
  }
  if (key.asymmetricKeyType === 'ec') {
    if (!details.namedCurve || !ALLOWED_CURVES.has(details.namedCurve))
      return `its elliptic curve ${details.namedCurve ?? '(unnamed)'} is not accepted (P-256, P-384, P-521, SM2)`;
    return null;
  }
  return `its ${key.asymmetricKeyType ?? 'unknown'} key type is not accepted`;
}

/** Whether a signature algorithm is on the allow-list: RSA (PKCS#1 v1.5 or PSS) or ECDSA with SHA-2, or SM2-with-SM3. */
export function checkSignatureAlgorithm(algorithm: Buffer): string | null {
  const scheme = signatureSchemeOf(algorithm);
  if (!scheme) return 'it is signed with an algorithm this verifier does not accept';
  if (scheme.hash === 'SHA-1') return `it is signed with ${scheme.name}; SHA-1 is no longer accepted`;
  if (scheme.pss && scheme.pss.saltLength < 20) return `its RSASSA-PSS salt (${scheme.pss.saltLength}) is too short`;
  return null;
}

const isSelfIssued = (c: Certificate) => sameName(c.subjectRdns, c.issuerRdns);
const label = (c: Certificate) => `"${c.subject || '(empty subject)'}"`;

/**
 * Finds and validates certification paths from `leaf` to a trust anchor. Several candidate
 * issuers (a re-keyed CA, a forged one with the same name) are each tried; the first path that
 * validates wins, else the problems of the first path found are reported.
 */
export function validatePath(input: PathValidationInput): PathValidationResult {
  const paths = buildPaths(input.leaf, input.pool, input.anchors);
  if (paths.length === 0) {
    const partial = longestChain(input.leaf, input.pool);
    return {
      valid: false,
      anchored: false,
      path: partial,
      problems: [
        input.anchors.length
          ? `${label(partial[partial.length - 1]!)} does not chain to a trusted root`
          : 'no trusted roots were given, so the chain is not checked',
      ],
      revocation: 'unknown',
      revocationNotes: [],
      validAtTime: partial.every((c) => within(c, input.at)),
    };
  }
  let first: PathValidationResult | null = null;
  for (const path of paths) {
    const result = checkPath(path, input);
    if (result.valid) return result;
    first ??= result;
  }
  return first!;
}

/** Every path leaf → … → anchor, depth first, issuers matched by name (and key identifier first). */
function buildPaths(leaf: Certificate, pool: Certificate[], anchors: Certificate[]): Certificate[][] {
  const out: Certificate[][] = [];
  // The end certificate may itself be a trust anchor (the same certificate, byte for byte).
  if (anchors.some((a) => a.der.equals(leaf.der))) out.push([leaf]);
  const walk = (path: Certificate[]) => {
    if (out.length >= MAX_PATHS_TRIED || path.length > MAX_PATH) return;
    const current = path[path.length - 1]!;
    const byKeyId = (c: Certificate) =>
      current.authorityKeyId && c.subjectKeyId?.equals(current.authorityKeyId) ? 0 : 1;
    for (const anchor of anchors
      .filter((a) => sameName(a.subjectRdns, current.issuerRdns))
      .sort((a, b) => byKeyId(a) - byKeyId(b))) {
      if (!path.some((p) => p.der.equals(anchor.der))) out.push([...path, anchor]);
    }
    const issuers = pool
      .filter((c) => sameName(c.subjectRdns, current.issuerRdns) && !path.some((p) => p.der.equals(c.der)))
      .filter((c) => !anchors.some((a) => a.der.equals(c.der)))
      .sort((a, b) => byKeyId(a) - byKeyId(b));
    for (const issuer of issuers) walk([...path, issuer]);
  };
  walk([leaf]);
  return out;
}

/** The chain as far as names lead, for a report when no anchor is reached. */
function longestChain(leaf: Certificate, pool: Certificate[]): Certificate[] {
  const chain = [leaf];
  for (let current = leaf; chain.length < MAX_PATH;) {
    const next = pool.find(
      (c) => !chain.some((p) => p.der.equals(c.der)) && sameName(c.subjectRdns, current.issuerRdns),
    );
    if (!next) break;
    chain.push(next);
    current = next;
  }
  return chain;
}

const within = (c: Certificate, at: Date) => at >= c.notBefore && at <= c.notAfter;

// ---------------------------------------------------------------- RFC 5280 §6.1

interface PolicyNode {
  policy: string;
  qualifiers: boolean;
  expected: Set<string>;
  children: PolicyNode[];
  parent: PolicyNode | null;
  depth: number;
}

/** Runs §6.1.2–§6.1.5 over one path, ordered anchor-last as built; returns the verdict and its reasons. */
function checkPath(pathLeafFirst: Certificate[], input: PathValidationInput): PathValidationResult {
  const problems: string[] = [];
  const revocationNotes: string[] = [];
  const anchor = pathLeafFirst[pathLeafFirst.length - 1]!;
  // Certificates 1..n in RFC order: the one the anchor issued first, the end certificate last.
  const certs = pathLeafFirst.length === 1 ? [] : pathLeafFirst.slice(0, -1).reverse();
  const n = certs.length;
  const at = input.at;
  let revocation: RevocationStatus = 'good';

  // §6.1.2 initialisation (user-initial-policy-set = any-policy; no explicit policy, mapping or any-policy inhibit asked).
  let validPolicyTree: PolicyNode | null = {
    policy: OID.anyPolicy,
    qualifiers: false,
    expected: new Set([OID.anyPolicy]),
    children: [],
    parent: null,
    depth: 0,
  };
  // Each CA's permitted subtrees of one name form narrow what earlier CAs permitted: a name must lie in every set.
  const permitted: PermittedSet[] = [];
  const excluded: asnX509.GeneralName[] = [];
  let explicitPolicy = n + 1;
  let inhibitAnyPolicy = n + 1;
  let policyMapping = n + 1;
  let workingKey = anchor.spki;
  let workingIssuer = anchor.subjectRdns;
  let maxPathLength = n;
  // The anchor's own key must be acceptable, and it must be in force at the time that counts
  // (openssl checks a root's validity too).
  const anchorKey = checkPublicKey(anchor.spki);
  if (anchorKey) problems.push(`the trusted root ${label(anchor)} cannot be used: ${anchorKey}`);
  if (!within(anchor, at)) problems.push(`the trusted root ${label(anchor)} was not valid at ${at.toISOString()}`);
  let issuerCert: Certificate = anchor;

  for (let i = 1; i <= n; i++) {
    const cert = certs[i - 1]!;
    const isLeaf = i === n;
    const who = label(cert);
    // (a)(1) the signature, under an accepted algorithm and key.
    const algorithmProblem = checkSignatureAlgorithm(cert.signatureAlgorithm);
    if (algorithmProblem) problems.push(`${who}: ${algorithmProblem}`);
    else if (!cert.signatureAlgorithm.equals(cert.tbsSignatureAlgorithm))
      problems.push(`${who}: its two signature algorithm fields differ (RFC 5280 §4.1.1.2)`);
    else if (!signedBy(cert, workingKey))
      problems.push(`${who}: its signature does not verify with the key of ${label(issuerCert)}`);
    const keyProblem = checkPublicKey(cert.spki);
    if (keyProblem) problems.push(`${who}: ${keyProblem}`);
    if (cert.repeatedExtensions.length)
      problems.push(`${who}: extension ${cert.repeatedExtensions[0]} appears more than once (RFC 5280 §4.2)`);
    for (const [id, reason] of cert.unreadableExtensions)
      problems.push(`${who}: extension ${id} cannot be read (${reason})`);
    // (a)(2) validity at the time that counts.
    if (!within(cert, at))
      problems.push(
        `${who} was not valid at ${at.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`,
      );
    // (a)(3) revocation, by CRLs of this certificate's issuer that themselves validate.
    const status = revocationOf(cert, issuerCert, workingKey, input, revocationNotes);
    if (status.kind === 'revoked') {
      revocation = 'revoked';
      problems.push(`${who} was revoked on ${status.date.toISOString()}${status.reason ? ` (${status.reason})` : ''}`);
    } else if (status.kind === 'unknown' && revocation === 'good') revocation = 'unknown';
    // (a)(4) name chaining.
    if (!sameName(cert.issuerRdns, workingIssuer)) problems.push(`${who}: its issuer name does not match`);
    // (b), (c) name constraints, unless a self-issued intermediate.
    if (isLeaf || !isSelfIssued(cert)) {
      const nameProblem = checkNameConstraints(cert, permitted, excluded);
      if (nameProblem) problems.push(`${who}: ${nameProblem}`);
    }
    // (d)–(f) certificate policies.
    validPolicyTree = processPolicies(
      cert,
      i,
      validPolicyTree,
      inhibitAnyPolicy > 0 || (isSelfIssued(cert) && !isLeaf),
    );
    if (validPolicyTree === null && explicitPolicy <= 0)
      problems.push(`${who}: no acceptable certificate policy (an explicit policy is required)`);

    if (!isLeaf) {
      // §6.1.4 preparation for certificate i+1.
      const mappings = policyMappingsOf(cert, problems);
      if (mappings) validPolicyTree = applyMappings(validPolicyTree, mappings, i, policyMapping > 0);
      workingIssuer = cert.subjectRdns;
      workingKey = cert.spki;
      if (cert.nameConstraints) intersectConstraints(cert.nameConstraints, permitted, excluded, problems, who);
      if (!isSelfIssued(cert)) {
        if (explicitPolicy > 0) explicitPolicy--;
        if (policyMapping > 0) policyMapping--;
        if (inhibitAnyPolicy > 0) inhibitAnyPolicy--;
      }
      const constraints = policyConstraintsOf(cert, problems);
      if (constraints.requireExplicit !== null) explicitPolicy = Math.min(explicitPolicy, constraints.requireExplicit);
      if (constraints.inhibitMapping !== null) policyMapping = Math.min(policyMapping, constraints.inhibitMapping);
      const inhibitAny = inhibitAnyPolicyOf(cert);
      if (inhibitAny !== null) inhibitAnyPolicy = Math.min(inhibitAnyPolicy, inhibitAny);
      // (k) only a CA may issue.
      if (cert.version !== 3) problems.push(`${who} is a version ${cert.version} certificate and cannot issue others`);
      else if (!cert.basicConstraints) problems.push(`${who} has no basicConstraints, so it is not a CA`);
      else if (!cert.basicConstraints.ca)
        problems.push(`${who} is not a CA (basicConstraints CA:FALSE) but issued a certificate`);
      // (l), (m) path length.
      if (!isSelfIssued(cert)) {
        if (maxPathLength <= 0) problems.push(`${who} lies beyond the path length its issuers allow`);
        else maxPathLength--;
      }
      const pathLength = cert.basicConstraints?.pathLength;
      if (pathLength !== null && pathLength !== undefined && pathLength < maxPathLength) maxPathLength = pathLength;
      // (n) key usage.
      if (cert.keyUsage && !cert.keyUsage.includes(KEY_USAGE.keyCertSign))
        problems.push(`${who}: its key usage does not include keyCertSign`);
      issuerCert = cert;
    } else {
      // §6.1.5 wrap-up.
      if (explicitPolicy > 0) explicitPolicy--;
      const constraints = policyConstraintsOf(cert, problems);
      if (constraints.requireExplicit === 0) explicitPolicy = 0;
      if (validPolicyTree === null && explicitPolicy <= 0)
        problems.push(`${who}: no acceptable certificate policy (an explicit policy is required)`);
      problems.push(...purposeProblems(cert, input.purpose));
    }
    // (o) / §6.1.5(f) no critical extension left unprocessed.
    for (const [id, ext] of cert.extensions)
      if (ext.critical && !PROCESSED_EXTENSIONS.has(id)) problems.push(`${who}: unknown critical extension ${id}`);
  }
  if (n === 0) problems.push(...purposeProblems(anchor, input.purpose));
  return {
    valid: problems.length === 0,
    anchored: true,
    path: pathLeafFirst,
    problems: [...new Set(problems)],
    revocation,
    revocationNotes,
    validAtTime: pathLeafFirst.every((c) => within(c, at)),
  };
}

const KEY_USAGE = { digitalSignature: 0, nonRepudiation: 1, keyCertSign: 5, cRLSign: 6 } as const;

/** Whether the end certificate may sign documents or time-stamps. */
function purposeProblems(cert: Certificate, purpose: Purpose): string[] {
  const who = label(cert);
  const out: string[] = [];
  if (
    cert.keyUsage &&
    !cert.keyUsage.includes(KEY_USAGE.digitalSignature) &&
    !cert.keyUsage.includes(KEY_USAGE.nonRepudiation)
  )
    out.push(`${who}: its key usage allows neither digitalSignature nor nonRepudiation`);
  if (purpose === 'timestamping') {
    // RFC 3161 §2.3: exactly one extended key usage, id-kp-timeStamping, marked critical.
    const eku = cert.extensions.get(OID.extKeyUsage);
    if (!eku || !cert.extKeyUsage?.includes(OID.kpTimeStamping))
      out.push(`${who} is not a time-stamping certificate (no timeStamping extended key usage)`);
    else if (!eku.critical || cert.extKeyUsage.length !== 1)
      out.push(
        `${who}: a TSA certificate's extended key usage must be timeStamping alone, marked critical (RFC 3161 §2.3)`,
      );
  } else if (cert.extKeyUsage && !cert.extKeyUsage.some((e) => DOCUMENT_SIGNING_EKUS.has(e))) {
    out.push(`${who}: its extended key usage does not allow signing documents`);
  }
  return out;
}

// ---------------------------------------------------------------- revocation (RFC 5280 §6.3, simplified)

type Status = { kind: 'good' } | { kind: 'unknown' } | { kind: 'revoked'; date: Date; reason: string | null };

const REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  '',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/**
 * The status of `cert` at `at` from the CRLs its issuer signed with the key that signed `cert`.
 * A CRL counts only when its signature verifies under an accepted algorithm, its issuer may sign
 * CRLs (cRLSign), it has no critical extension left unprocessed, its scope covers the
 * certificate, and it speaks for `at`: issued after it, or current at it.
 */
function revocationOf(
  cert: Certificate,
  issuer: Certificate,
  issuerKey: Buffer,
  input: PathValidationInput,
  notes: string[],
): Status {
  const usable: Crl[] = [];
  for (const crl of input.crls) {
    if (!sameName(crl.issuerRdns, cert.issuerRdns)) continue;
    const why = crlProblem(crl, cert, issuer, issuerKey);
    if (why) notes.push(`a CRL from ${crl.issuer || '(empty issuer)'} was not used: ${why}`);
    else usable.push(crl);
  }
  // Listed in any valid CRL at or before `at` means revoked, whatever a newer one says, except a
  // hold that the newest CRL no longer lists (RFC 5280 §5.3.1 certificateHold can be lifted).
  const newest = usable.reduce<Crl | null>((a, b) => (!a || b.thisUpdate > a.thisUpdate ? b : a), null);
  for (const crl of usable) {
    const entry = crl.revoked.find((r) => r.serial === cert.serial);
    if (!entry || entry.date > input.at) continue;
    const lifted = entry.reason === 6 && newest !== crl && !newest!.revoked.some((r) => r.serial === cert.serial);
    if (!lifted) return { kind: 'revoked', date: entry.date, reason: REASONS[entry.reason ?? 0] || null };
  }
  const covering = usable.filter(
    (crl) =>
      !crl.scope?.partial && (crl.thisUpdate >= input.at || (crl.nextUpdate !== null && crl.nextUpdate >= input.at)),
  );
  if (covering.length === 0) {
    if (usable.length === 0) notes.push(`no usable CRL for ${label(cert)}`);
    else notes.push(`no CRL for ${label(cert)} covers ${input.at.toISOString()}`);
    return { kind: 'unknown' };
  }
  return { kind: 'good' };
}

function crlProblem(crl: Crl, cert: Certificate, issuer: Certificate, issuerKey: Buffer): string | null {
  const algorithm = checkSignatureAlgorithm(crl.signatureAlgorithm);
  if (algorithm) return algorithm;
  if (!crl.signatureAlgorithm.equals(crl.tbsSignatureAlgorithm)) return 'its two signature algorithm fields differ';
  if (!signedBy(crl, issuerKey)) return `it is not signed by the key of ${label(issuer)}`;
  if (issuer.keyUsage && !issuer.keyUsage.includes(KEY_USAGE.cRLSign))
    return `${label(issuer)} may not sign CRLs (no cRLSign in its key usage)`;
  if (crl.unknownCritical.length)
    return `it has a critical extension this verifier does not process (${crl.unknownCritical[0]})`;
  if (crl.revoked.some((r) => r.unknownCritical.length))
    return 'an entry has a critical extension this verifier does not process';
  if (crl.scope?.onlyCaCerts && !cert.isCa) return 'it lists CA certificates only';
  if (crl.scope?.onlyUserCerts && cert.isCa) return 'it lists end-entity certificates only';
  if (crl.thisUpdate.getTime() > Date.now() + 5 * 60_000) return 'it claims to be issued in the future';
  return null;
}

// ---------------------------------------------------------------- name constraints (§4.2.1.10, §6.1.3(b)(c), §6.1.4(g))

type NameForm = 'directoryName' | 'rfc822Name' | 'dNSName' | 'uniformResourceIdentifier' | 'iPAddress';
const NAME_FORMS: NameForm[] = ['directoryName', 'rfc822Name', 'dNSName', 'uniformResourceIdentifier', 'iPAddress'];

function formOf(name: asnX509.GeneralName): NameForm | null {
  for (const form of NAME_FORMS) if (name[form] !== undefined) return form;
  return null;
}

interface PermittedSet {
  form: NameForm;
  bases: asnX509.GeneralName[];
}

function intersectConstraints(
  nc: asnX509.NameConstraints,
  permitted: PermittedSet[],
  excluded: asnX509.GeneralName[],
  problems: string[],
  who: string,
): void {
  const check = (subtrees: asnX509.GeneralSubtrees | undefined) => {
    for (const s of subtrees ?? []) {
      if (s.minimum !== 0 || s.maximum !== undefined)
        problems.push(`${who}: name constraints with minimum or maximum are not allowed (RFC 5280 §4.2.1.10)`);
      if (!formOf(s.base)) problems.push(`${who}: name constraints of this name form are not supported`);
    }
  };
  check(nc.permittedSubtrees);
  check(nc.excludedSubtrees);
  const byForm = new Map<NameForm, asnX509.GeneralName[]>();
  for (const s of nc.permittedSubtrees ?? []) {
    const form = formOf(s.base);
    if (form) byForm.set(form, [...(byForm.get(form) ?? []), s.base]);
  }
  for (const [form, bases] of byForm) permitted.push({ form, bases });
  for (const s of nc.excludedSubtrees ?? []) excluded.push(s.base);
}

/** The names a certificate carries, by form: its subject DN, SAN entries, and emailAddress attributes. */
function namesOf(cert: Certificate): Array<{ form: NameForm; value: string | string[] }> {
  const out: Array<{ form: NameForm; value: string | string[] }> = [];
  if (cert.subjectRdns.length) out.push({ form: 'directoryName', value: cert.subjectRdns });
  for (const email of cert.subjectEmails) out.push({ form: 'rfc822Name', value: email });
  for (const san of cert.subjectAltNames) {
    const form = formOf(san);
    if (form === 'directoryName') out.push({ form, value: canonicalRdns(san.directoryName!) });
    else if (form) out.push({ form, value: String(san[form]) });
  }
  return out;
}

function checkNameConstraints(
  cert: Certificate,
  permitted: PermittedSet[],
  excluded: asnX509.GeneralName[],
): string | null {
  if (permitted.length === 0 && excluded.length === 0) return null;
  for (const name of namesOf(cert)) {
    const shown = Array.isArray(name.value) ? cert.subject : name.value;
    for (const base of excluded)
      if (formOf(base) === name.form && matches(name.form, name.value, base))
        return `its ${name.form} ${shown} is excluded by a name constraint`;
    for (const set of permitted) {
      if (set.form === name.form && !set.bases.some((base) => matches(name.form, name.value, base)))
        return `its ${name.form} ${shown} is outside the names its issuers permit`;
    }
  }
  return null;
}

function matches(form: NameForm, value: string | string[], base: asnX509.GeneralName): boolean {
  switch (form) {
    case 'directoryName': {
      const constraint = canonicalRdns(base.directoryName!);
      const rdns = value as string[];
      return constraint.length <= rdns.length && constraint.every((r, i) => r === rdns[i]);
    }
    case 'rfc822Name': {
      const c = base.rfc822Name!.toLowerCase();
      const v = (value as string).toLowerCase();
      if (c.includes('@')) return v === c;
      const host = v.slice(v.lastIndexOf('@') + 1);
      return c.startsWith('.') ? host.endsWith(c) : host === c;
    }
    case 'dNSName':
      return domainWithin((value as string).toLowerCase(), base.dNSName!.toLowerCase());
    case 'uniformResourceIdentifier': {
      let host: string;
      try {
        host = new URL(value as string).hostname.toLowerCase();
      } catch {
        return false;
      }
      const c = base.uniformResourceIdentifier!.toLowerCase();
      return c.startsWith('.') ? host.endsWith(c) : host === c;
    }
    case 'iPAddress':
      return ipWithin(value as string, base.iPAddress!);
  }
}

function domainWithin(name: string, constraint: string): boolean {
  if (constraint === '') return true;
  const c = constraint.startsWith('.') ? constraint.slice(1) : constraint;
  return name === c || name.endsWith(`.${c}`);
}

function ipWithin(address: string, constraint: string): boolean {
  const [base, prefix] = constraint.split('/');
  const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
  if (!type || !base || prefix === undefined) return false;
  if ((type === 'ipv4') !== isIPv4(base)) return false;
  try {
    const list = new BlockList();
    list.addSubnet(base, Number(prefix), type);
    return list.check(address, type);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- certificate policies (§6.1.3(d)–(f), §6.1.4(a)(b))

function decode<T>(cert: Certificate, id: string, type: new () => T): T | null {
  const ext = cert.extensions.get(id);
  if (!ext) return null;
  try {
    return AsnConvert.parse(ext.value, type);
  } catch {
    cert.unreadableExtensions.set(id, 'malformed');
    return null;
  }
}

function leaves(tree: PolicyNode, depth: number): PolicyNode[] {
  const out: PolicyNode[] = [];
  const walk = (node: PolicyNode) => {
    if (node.depth === depth) out.push(node);
    else for (const child of node.children) walk(child);
  };
  walk(tree);
  return out;
}

/** Removes nodes of depth < `depth` that have no children (§6.1.3(d)(3), (e)). */
function prune(tree: PolicyNode, depth: number): PolicyNode | null {
  const walk = (node: PolicyNode): boolean => {
    if (node.depth === depth) return true;
    node.children = node.children.filter(walk);
    return node.children.length > 0;
  };
  return walk(tree) ? tree : null;
}

function processPolicies(
  cert: Certificate,
  i: number,
  tree: PolicyNode | null,
  anyPolicyAllowed: boolean,
): PolicyNode | null {
  const policies = decode(cert, OID.certificatePolicies, asnX509.CertificatePolicies);
  if (!policies || !tree) return null; // (e): no policies extension → the tree is NULL
  const parents = leaves(tree, i - 1);
  const ids = policies.map((p) => p.policyIdentifier);
  const grow = (parent: PolicyNode, policy: string) =>
    parent.children.push({ policy, qualifiers: false, expected: new Set([policy]), children: [], parent, depth: i });
  for (const id of ids) {
    if (id === OID.anyPolicy) continue;
    // (d)(1)(i): under each node expecting it; (d)(1)(ii): else under every anyPolicy node.
    const expecting = parents.filter((parent) => parent.expected.has(id));
    for (const parent of expecting.length ? expecting : parents.filter((p) => p.policy === OID.anyPolicy))
      grow(parent, id);
  }
  if (ids.includes(OID.anyPolicy) && anyPolicyAllowed) {
    for (const parent of parents) {
      for (const expected of parent.expected) {
        if (!parent.children.some((c) => c.policy === expected)) grow(parent, expected);
      }
    }
  }
  return prune(tree, i);
}

function policyMappingsOf(cert: Certificate, problems: string[]): Map<string, Set<string>> | null {
  const mappings = decode(cert, OID.policyMappings, asnX509.PolicyMappings);
  if (!mappings) return null;
  const out = new Map<string, Set<string>>();
  for (const m of mappings) {
    if (m.issuerDomainPolicy === OID.anyPolicy || m.subjectDomainPolicy === OID.anyPolicy) {
      problems.push(`${label(cert)}: a policy mapping names anyPolicy (RFC 5280 §6.1.4(a))`);
      continue;
    }
    out.set(m.issuerDomainPolicy, new Set([...(out.get(m.issuerDomainPolicy) ?? []), m.subjectDomainPolicy]));
  }
  return out;
}

function applyMappings(
  tree: PolicyNode | null,
  mappings: Map<string, Set<string>>,
  i: number,
  mappingAllowed: boolean,
): PolicyNode | null {
  if (!tree) return null;
  for (const node of leaves(tree, i)) {
    const mapped = mappings.get(node.policy);
    if (!mapped) continue;
    if (mappingAllowed) node.expected = new Set(mapped);
    else node.parent!.children = node.parent!.children.filter((c) => c !== node);
  }
  return mappingAllowed ? tree : prune(tree, i);
}

function policyConstraintsOf(
  cert: Certificate,
  problems: string[],
): { requireExplicit: number | null; inhibitMapping: number | null } {
  const pc = decode(cert, OID.policyConstraints, asnX509.PolicyConstraints);
  if (!pc) return { requireExplicit: null, inhibitMapping: null };
  if (pc.requireExplicitPolicy === undefined && pc.inhibitPolicyMapping === undefined)
    problems.push(`${label(cert)}: empty policy constraints (RFC 5280 §4.2.1.11)`);
  const n = (v: ArrayBuffer | undefined) =>
    v === undefined ? null : Number(BigInt(`0x${Buffer.from(v).toString('hex') || '0'}`));
  return { requireExplicit: n(pc.requireExplicitPolicy), inhibitMapping: n(pc.inhibitPolicyMapping) };
}

function inhibitAnyPolicyOf(cert: Certificate): number | null {
  const v = decode(cert, OID.inhibitAnyPolicy, asnX509.InhibitAnyPolicy);
  return v ? Number(BigInt(`0x${Buffer.from(v.value).toString('hex') || '0'}`)) : null;
}
