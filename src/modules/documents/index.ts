// The documents module's door: PDFs stored to be stamped or signed, who may read each (extension
// points `documentReaders` and `documentOrigins`, filled by the modules that sign and name
// documents), their pages, and the upload route. The documents issue grows it (templates, archive).
export { documentPagesSchema, PAGE_BOXES_LISTED } from './document.schema.js';
export {
  checkReadableDocuments,
  documentOrigins,
  documentReaders,
  findReadableDocument,
  getDocumentPages,
  getReadableDocument,
  uploadDocument,
} from './document.service.js';
export type { DocumentFormat, DocumentOrigin, DocumentReader, ReadableDocument } from './document.service.js';
export { OFD_MEDIA_TYPE, PLATFORM_OFD_LIMITS, looksLikeZip, ofdProblem, openPlatformOfd } from './document.ofd.js';
export { documentRoutes } from './document.routes.js';
