// Sealing a stored OFD (GB/T 33190) with an electronic seal: a GB/T 38540 seal signature
// (SES_Signature) by the seal's .esl and its SM2 certificate, over Signature.xml, which lists the
// SM3 of every file of the package. The authority to use the seal is decided by the caller
// (signDocument), exactly as for a PDF; this only makes the signed copy.
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import {
  findKeyword,
  sealPictureOfSeal,
  sesSignatureProvider,
  signOfd,
  type StampPlacement,
  type OfdFile,
} from '../../ofd/index.js';
import type { Actor } from '../access/index.js';
import { ofdProblem, openPlatformOfd, PLATFORM_OFD_LIMITS } from '../documents/index.js';
import { sm2Pki, type CertificateRecord } from '../pki/index.js';
import type { SignInput } from './signature.schema.js';

const POINTS_PER_MM = 72 / 25.4;
/** The impression's size when neither the request nor the .esl says it (a round seal's 42 mm, as for PDF). */
const DEFAULT_SEAL_MM = 42;

export interface OfdSeal {
  id: string;
  name: string;
  kind: string;
  companyId: string;
  companyName: string;
  imageSha256: string | null;
}

function pageCountError(file: OfdFile, page: number, field: string): AppError {
  return new AppError('validation_failed', `The document has ${file.document.pages.length} page(s), not ${page}.`, {
    errors: [{ field, message: `must be at most ${file.document.pages.length}` }],
  });
}

/**
 * Where the seal goes, from the same placement a PDF takes: a rect in points from the bottom-left
 * corner (turned into OFD's millimetres from the top left), or centred on a keyword of the text.
 */
function placementOf(file: OfdFile, input: SignInput, pictureMm: [number, number]): StampPlacement[] {
  const at = input.appearance;
  if (!at) return [];
  if (at.type === 'rect') {
    const index = at.page - 1;
    if (index >= file.document.pages.length) throw pageCountError(file, at.page, 'body.appearance.page');
    const [, , , pageHeight] = file.page(index).physicalBox;
    const [x, y, w, h] = at.rect.map((v) => v / POINTS_PER_MM) as [number, number, number, number];
    return [{ page: index, boundary: [x, pageHeight - y - h, w, h] }];
  }
  const hits = findKeyword(file, at.keyword, 200).filter((hit) => !at.page || hit.page === at.page - 1);
  const hit = hits[0];
  if (!hit)
    throw new AppError('validation_failed', `The keyword “${at.keyword}” is not in the document's text.`, {
      errors: [{ field: 'body.appearance.keyword', message: 'is not found' }],
    });
  const [w, h] = at.size ? (at.size.map((v) => v / POINTS_PER_MM) as [number, number]) : pictureMm;
  const [dx, dy] = at.offset ? [at.offset[0] / POINTS_PER_MM, -at.offset[1] / POINTS_PER_MM] : [0, 0];
  const [kx, ky, kw, kh] = hit.box;
  return [{ page: hit.page, boundary: [kx + kw / 2 - w / 2 + dx, ky + kh / 2 - h / 2 + dy, w, h] }];
}

/** The seal's .esl in force (issued now if it has none), its SM2 certificate and a signer over it. */
export async function prepareOfdSeal(ctx: AppContext, actor: Actor, seal: OfdSeal & { groupId: string }) {
  const { esl } = await sm2Pki.issueSealEsl(ctx, actor, seal, { reuse: true });
  const certificate: CertificateRecord = await sm2Pki.getEslCertificate(ctx, esl);
  const signer = await sm2Pki.openSm2Signer(ctx, certificate);
  return { esl, certificate, signer };
}

/** Signs the OFD with the prepared seal; the signed package, or a problem naming what is wrong with the file or placement. */
export async function sealOfd(
  bytes: Uint8Array,
  prepared: Awaited<ReturnType<typeof prepareOfdSeal>>,
  input: SignInput,
  signingTime: Date,
): Promise<Uint8Array> {
  const file = openPlatformOfd(bytes);
  const picture = sealPictureOfSeal(prepared.esl.der);
  const pictureMm: [number, number] = picture
    ? [picture.widthMm, picture.heightMm]
    : [DEFAULT_SEAL_MM, DEFAULT_SEAL_MM];
  const stamps = placementOf(file, input, pictureMm);
  const crossPage = input.crossPage
    ? {
        ...(input.crossPage.pages ? { pages: input.crossPage.pages.map((p) => p - 1) } : {}),
        ...(input.crossPage.width ? { width: input.crossPage.width / POINTS_PER_MM } : {}),
      }
    : undefined;
  if (crossPage?.pages?.some((p) => p >= file.document.pages.length))
    throw pageCountError(file, Math.max(...crossPage.pages.map((p) => p + 1)), 'body.crossPage.pages');
  try {
    return await signOfd(bytes, {
      provider: sesSignatureProvider({ seal: prepared.esl.der, signer: prepared.signer }),
      stamps,
      ...(crossPage ? { crossPage } : {}),
      signingTime,
      limits: PLATFORM_OFD_LIMITS,
    });
  } catch (error) {
    throw ofdProblem(error);
  }
}
