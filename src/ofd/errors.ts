// What reading, drawing, writing or signing an OFD package can refuse: a code that says which
// rule was broken and a message that names the file or element at fault. The library knows
// nothing of HTTP; a caller maps the codes (all of them are input problems except `internal`).

export type OfdErrorCode =
  /** Not a zip, a damaged zip, or an entry whose bytes do not match their CRC. */
  | 'ofd_not_zip'
  /** More entries, bytes or compression than the limits allow: a zip bomb, or simply too big. */
  | 'ofd_too_large'
  /** An entry or reference path that is absolute, uses backslashes or drive letters, or climbs out of the package. */
  | 'ofd_path_invalid'
  /** XML that is malformed, not UTF-8, nested too deeply, or declares a DOCTYPE or entities. */
  | 'ofd_xml_invalid'
  /** A required file or element is missing, or a value has the wrong form. */
  | 'ofd_malformed'
  /** A version, check method or signature type this library does not read. */
  | 'ofd_unsupported'
  /** A page, seal or signature asked for that the document does not have. */
  | 'ofd_not_found'
  /** What a caller asked for cannot be done as asked: a stamp box out of range, a cross-page seal on one page. */
  | 'ofd_options_invalid';

export class OfdError extends Error {
  constructor(
    readonly code: OfdErrorCode,
    message: string,
    /** The package path the problem is in, when there is one. */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'OfdError';
  }
}
