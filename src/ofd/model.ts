// The parts of an OFD document (GB/T 33190-2016) that Sigil reads, draws and signs. Lengths are
// millimetres, as in the standard; a box is [x, y, width, height] with y growing downwards.

export type Box = [x: number, y: number, width: number, height: number];
/** An affine matrix a b c d e f, as SVG and PDF write it (x' = a·x + c·y + e, y' = b·x + d·y + f). */
export type Matrix = [a: number, b: number, c: number, d: number, e: number, f: number];

export interface Color {
  /** 0–255 each for RGB, as OFD writes it (`Value="156 82 35"`). */
  rgb: [number, number, number];
  /** 0–255, 255 opaque. */
  alpha: number;
}

export interface TextCode {
  /** Origin of the first glyph, in the object's own coordinates. */
  x: number;
  y: number;
  /** Gaps between consecutive characters, the `g` abbreviation expanded; shorter than the text when the producer left them out. */
  deltaX: number[];
  deltaY: number[];
  text: string;
}

interface Graphic {
  id?: string;
  boundary: Box;
  ctm?: Matrix;
  /** Alpha 0–255 of the whole object. */
  alpha?: number;
}

export interface TextObject extends Graphic {
  kind: 'text';
  font: string;
  size: number;
  weight?: number;
  italic?: boolean;
  fill: boolean;
  stroke: boolean;
  fillColor?: Color;
  strokeColor?: Color;
  codes: TextCode[];
}

export interface PathObject extends Graphic {
  kind: 'path';
  /** AbbreviatedData as written (GB/T 33190 §9.1.4: S M L Q B A C). */
  data: string;
  fill: boolean;
  stroke: boolean;
  lineWidth: number;
  fillColor?: Color;
  strokeColor?: Color;
  evenOdd: boolean;
}

export interface ImageObject extends Graphic {
  kind: 'image';
  resourceId: string;
}

export interface BlockObject extends Graphic {
  kind: 'block';
  objects: PageObject[];
}

export type PageObject = TextObject | PathObject | ImageObject | BlockObject;

export interface Layer {
  type: 'Body' | 'Foreground' | 'Background';
  objects: PageObject[];
}

export interface PageContent {
  /** PhysicalBox of the page (or of the document when the page sets none). */
  physicalBox: Box;
  layers: Layer[];
}

export interface PageRef {
  /** The page's ID in Document.xml, which signatures' PageRef and annotations name. */
  id: string;
  index: number;
  /** Package path of the page's Content.xml. */
  path: string;
}

/** A page annotation (GB/T 33190 §15): a stamp, a link, a watermark…, drawn from its Appearance over the page. */
export interface Annotation {
  id?: string;
  type: string;
  subtype?: string;
  visible: boolean;
  /** Its own graphics, in the coordinates of `boundary`. */
  appearance?: { boundary: Box; objects: PageObject[] };
}

export interface Page extends PageRef {
  physicalBox: Box;
  annotations: Annotation[];
  /** Template pages drawn under (Background) or over (Foreground) the page's own content. */
  templates: Array<{ content: PageContent; zOrder: 'Background' | 'Foreground' }>;
  content: PageContent;
}

export interface FontResource {
  id: string;
  fontName: string;
  familyName?: string;
  bold?: boolean;
  italic?: boolean;
  /** Package path of the embedded font file, when there is one. */
  file?: string;
}

export interface MediaResource {
  id: string;
  type: string;
  format?: string;
  /** Package path of the media file. */
  file: string;
}

export interface DocInfo {
  docId?: string;
  title?: string;
  author?: string;
  creator?: string;
  creatorVersion?: string;
  creationDate?: string;
}

export interface OfdDocument {
  /** OFD.xml's Version and DocType. */
  version: string;
  docType: string;
  info: DocInfo;
  /** Package path of Document.xml. */
  documentPath: string;
  /** Package path of Annotations.xml, when the document names one. */
  annotationsPath?: string;
  /** Package path of Signatures.xml, when the document has one. */
  signaturesPath?: string;
  maxUnitId?: number;
  physicalBox: Box;
  pages: PageRef[];
  templates: Map<string, string>;
  fonts: Map<string, FontResource>;
  media: Map<string, MediaResource>;
  /** What was tolerated while reading (a missing optional file, an unknown element), for a report. */
  warnings: string[];
}
