// Revocation data for B-LT from the certificates themselves: CRLs downloaded from their CRL
// distribution points (RFC 5280 §4.2.1.13), with timeouts and size limits. The built-in CA will
// rather hand over its own current CRLs (staticRevocationSource).
import type { RevocationSource } from './pades.js';
import { readBounded } from './tsa.js';
import { parseCertificate, parseCrl } from './x509.js';

/** The http(s) URLs in a certificate's CRL distribution points. */
export function crlDistributionPoints(certificate: Buffer): string[] {
  return parseCertificate(certificate).crlDistributionPoints.filter((u) => /^https?:\/\//i.test(u));
}

export interface HttpRevocationOptions {
  timeoutMs?: number;
  maxCrlBytes?: number;
  fetch?: typeof fetch;
}

/** Fetches the CRL of every certificate that names one; a CRL that cannot be had is left out. */
export function httpRevocationSource(options: HttpRevocationOptions = {}): RevocationSource & { failures: string[] } {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const limit = options.maxCrlBytes ?? 10 * 1024 * 1024;
  const doFetch = options.fetch ?? fetch;
  const failures: string[] = [];
  return {
    failures,
    async crlsFor(certificates) {
      const urls = [...new Set(certificates.flatMap((c) => crlDistributionPoints(c)))].slice(0, 16);
      const out: Buffer[] = [];
      for (const url of urls) {
        try {
          const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
          if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
          const body = await readBounded(response, limit);
          parseCrl(body);
          out.push(body);
        } catch (error) {
          failures.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return out;
    },
  };
}
