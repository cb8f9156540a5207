// OFD documents (GB/T 33190-2016) without database or HTTP: reading a package within limits,
// text extraction, drawing pages as SVG and PNG, writing OFD from contract templates, and
// signatures (Signatures.xml, Signature.xml, stamps, cross-page seals) over an interface that the
// signing engine's seal signatures fill. The rest of Sigil uses OFD from here.
export { OfdError, type OfdErrorCode } from './errors.js';
export { DEFAULT_OFD_LIMITS, ofdLimits, readPackage, type OfdLimits, type OfdPackage } from './package.js';
export type {
  Box,
  Color,
  Matrix,
  OfdDocument,
  Page,
  PageRef,
  PageObject,
  TextObject,
  PathObject,
  ImageObject,
  FontResource,
  MediaResource,
} from './model.js';
export { openOfd, openPackage, type OfdFile } from './reader.js';
export { extractText, extractPageText, findKeyword, type KeywordHit } from './text.js';
export {
  renderPageSvg,
  renderPagePng,
  PNG_LIMITS,
  type Stamp,
  type RenderPageOptions,
  type RenderedSvg,
} from './render.js';
export { sealPictureOfSeal, sealPictureOfSignature, type SealPicture } from './seal-picture.js';
export { writeOfd, type WriteOfdOptions, type OfdPageInput, type OfdTextRun, type OfdFontInput } from './writer.js';
export { renderTemplateOfd, type TemplateOfdOptions } from './template-ofd.js';
export {
  SM2_WITH_SM3,
  listSignatures,
  verifyOfd,
  verifyOfdFile,
  pageStamps,
  signOfd,
  type SealSignatureProvider,
  type SealSignatureVerifier,
  type SignedValueVerdict,
  type SignatureType,
  type StampAnnot,
  type OfdSignatureReport,
  type OfdVerificationReport,
  type ReferenceCheck,
  type SignOfdOptions,
  type StampPlacement,
  type CrossPageSeal,
} from './signatures.js';
export {
  gbt35275SignatureProvider,
  sesSignatureProvider,
  sesSignatureVerifier,
  type SesProviderOptions,
  type SesVerifierOptions,
  type SignProviderOptions,
} from './ses.js';
