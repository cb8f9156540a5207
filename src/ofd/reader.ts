// Opening an OFD document: OFD.xml → DocBody → Document.xml (CommonData, Pages, resources) →
// each page's Content.xml, read when asked for. Every count is bounded by the limits, every path
// resolved inside the package, and every number checked, so a hostile file ends in an OfdError
// naming the file and the element, never in a crash or an endless loop.
import { OfdError } from './errors.js';
import type {
  Annotation,
  BlockObject,
  Box,
  Color,
  DocInfo,
  FontResource,
  Layer,
  Matrix,
  MediaResource,
  OfdDocument,
  Page,
  PageContent,
  PageObject,
  PageRef,
  TextCode,
} from './model.js';
import { dirOf, DEFAULT_OFD_LIMITS, readPackage, resolve, type OfdLimits, type OfdPackage } from './package.js';
import { child, childrenNamed, childText, parseXml, type XmlElement } from './xml.js';

export interface OfdFile {
  package: OfdPackage;
  document: OfdDocument;
  /** Page `index` (0-based) with its content and templates, parsed on first use and kept. */
  page(index: number): Page;
}

/** Versions of OFD.xml read: GB/T 33190-2016 writes 1.0, producers also 1.1 and 1.2, OFD 2.0 drafts 2.0. */
const VERSION = /^[12]\.\d{1,2}$/;
const DOC_TYPES = new Set(['OFD', 'OFD-A']);

export function xmlOf(pkg: OfdPackage, path: string, referredBy?: string): XmlElement {
  const name = pkg.find(path) ?? path;
  return parseXml(pkg.read(path, referredBy), name, pkg.limits);
}

function expectRoot(root: XmlElement, name: string, path: string): XmlElement {
  if (root.name !== name)
    throw new OfdError('ofd_malformed', `the root element is <${root.name}>, an OFD ${name} file has <${name}>`, path);
  return root;
}

export function parseNumber(value: string | undefined, what: string, path: string): number {
  const n = value === undefined ? NaN : Number(value.trim());
  if (value === undefined || value.trim() === '' || !Number.isFinite(n))
    throw new OfdError('ofd_malformed', `${what} is ${JSON.stringify(value ?? null)}, not a number`, path);
  return n;
}

function numbers(value: string, what: string, path: string, count?: number): number[] {
  const parts = value
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  if (count !== undefined && parts.length !== count)
    throw new OfdError('ofd_malformed', `${what} "${value}" should hold ${count} numbers`, path);
  return parts.map((p) => parseNumber(p, what, path));
}

export function parseBox(value: string | undefined, what: string, path: string): Box {
  if (value === undefined) throw new OfdError('ofd_malformed', `${what} is missing`, path);
  return numbers(value, what, path, 4) as Box;
}

function parseMatrix(value: string | undefined, path: string): Matrix | undefined {
  return value === undefined ? undefined : (numbers(value, 'CTM', path, 6) as Matrix);
}

function parseBool(value: string | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : value.trim() === 'true';
}

function parseColor(element: XmlElement | undefined, path: string): Color | undefined {
  if (!element) return undefined;
  const value = element.attrs.Value?.trim();
  const alpha = element.attrs.Alpha === undefined ? 255 : parseNumber(element.attrs.Alpha, 'Alpha', path);
  if (!value) return { rgb: [0, 0, 0], alpha };
  // Components are decimal, or hexadecimal each with a leading # (GB/T 33190 §8.3.2).
  const parts = value.split(/\s+/).map((p) => (p.startsWith('#') ? parseInt(p.slice(1), 16) : Number(p)));
  if (parts.some((p) => !Number.isFinite(p)))
    throw new OfdError('ofd_malformed', `colour "${value}" is not a colour`, path);
  const [r = 0, g = r, b = r] = parts;
  const clamp = (n: number) => Math.max(0, Math.min(255, n));
  return { rgb: [clamp(r), clamp(g), clamp(b)], alpha: clamp(alpha) };
}

/**
 * DeltaX / DeltaY (GB/T 33190 §11.3): numbers, where `g N v` stands for N times v. Expanded up to
 * `max` values (the glyphs of the text), so `g 1000000000 1` cannot make a billion of them.
 */
export function parseDeltas(value: string | undefined, max: number, path: string): number[] {
  if (!value) return [];
  const tokens = value.trim().split(/\s+/);
  const out: number[] = [];
  for (let i = 0; i < tokens.length && out.length < max; i++) {
    if (tokens[i] === 'g') {
      const count = parseNumber(tokens[i + 1], 'the count after g in DeltaX/DeltaY', path);
      const delta = parseNumber(tokens[i + 2], 'the value after g N in DeltaX/DeltaY', path);
      if (!Number.isInteger(count) || count < 0)
        throw new OfdError('ofd_malformed', `g ${tokens[i + 1]} in DeltaX/DeltaY is not a count`, path);
      for (let k = 0; k < count && out.length < max; k++) out.push(delta);
      i += 2;
    } else out.push(parseNumber(tokens[i], 'a DeltaX/DeltaY value', path));
  }
  return out;
}

function readInfo(element: XmlElement | undefined): DocInfo {
  if (!element) return {};
  const info: DocInfo = {};
  const pick = (name: string) => childText(element, name);
  for (const [key, name] of [
    ['docId', 'DocID'],
    ['title', 'Title'],
    ['author', 'Author'],
    ['creator', 'Creator'],
    ['creatorVersion', 'CreatorVersion'],
    ['creationDate', 'CreationDate'],
  ] as const) {
    const value = pick(name);
    if (value !== undefined) info[key] = value;
  }
  return info;
}

interface Resources {
  fonts: Map<string, FontResource>;
  media: Map<string, MediaResource>;
}

function readResources(pkg: OfdPackage, path: string, into: Resources, warnings: string[], referredBy: string): void {
  if (!pkg.find(path)) {
    warnings.push(`${referredBy} names the resource file /${path}, which is not in the package`);
    return;
  }
  const root = expectRoot(xmlOf(pkg, path), 'Res', path);
  const base = root.attrs.BaseLoc ? resolve(root.attrs.BaseLoc, path) : dirOf(path);
  const fileOf = (element: XmlElement, name: string): string | undefined => {
    const ref = childText(element, name);
    return ref === undefined ? undefined : resolve(ref, path, base);
  };
  for (const group of childrenNamed(root, 'Fonts'))
    for (const font of childrenNamed(group, 'Font')) {
      const id = font.attrs.ID;
      if (!id) throw new OfdError('ofd_malformed', '<Font> has no ID', path);
      const file = fileOf(font, 'FontFile');
      into.fonts.set(id, {
        id,
        fontName: font.attrs.FontName ?? '',
        ...(font.attrs.FamilyName ? { familyName: font.attrs.FamilyName } : {}),
        ...(font.attrs.Bold === 'true' ? { bold: true } : {}),
        ...(font.attrs.Italic === 'true' ? { italic: true } : {}),
        ...(file ? { file } : {}),
      });
    }
  for (const group of childrenNamed(root, 'MultiMedias'))
    for (const media of childrenNamed(group, 'MultiMedia')) {
      const id = media.attrs.ID;
      const file = fileOf(media, 'MediaFile');
      if (!id || !file) throw new OfdError('ofd_malformed', '<MultiMedia> needs an ID and a MediaFile', path);
      into.media.set(id, {
        id,
        type: media.attrs.Type ?? 'Image',
        ...(media.attrs.Format ? { format: media.attrs.Format } : {}),
        file,
      });
    }
}

/** Opens an OFD file: the package, OFD.xml, the first document's Document.xml and its resources. */
export function openOfd(bytes: Uint8Array, limits: OfdLimits = DEFAULT_OFD_LIMITS): OfdFile {
  const pkg = readPackage(bytes, limits);
  return openPackage(pkg);
}

export function openPackage(pkg: OfdPackage): OfdFile {
  const limits = pkg.limits;
  if (!pkg.find('OFD.xml'))
    throw new OfdError('ofd_malformed', 'the package has no OFD.xml at its root: not an OFD file');
  const ofd = expectRoot(xmlOf(pkg, 'OFD.xml'), 'OFD', 'OFD.xml');
  const version = ofd.attrs.Version?.trim() ?? '';
  if (!VERSION.test(version))
    throw new OfdError(
      'ofd_unsupported',
      `OFD version ${JSON.stringify(version)} is not one this reader knows (1.x, 2.x)`,
      'OFD.xml',
    );
  // DocType is "OFD" by the standard; producers of seal pictures leave it out, which is read as the default.
  const docType = ofd.attrs.DocType?.trim() || 'OFD';
  if (!DOC_TYPES.has(docType))
    throw new OfdError('ofd_unsupported', `DocType ${JSON.stringify(docType)} is not OFD`, 'OFD.xml');
  const body = child(ofd, 'DocBody');
  const rootRef = body && childText(body, 'DocRoot');
  if (!body || !rootRef) throw new OfdError('ofd_malformed', 'has no DocBody with a DocRoot', 'OFD.xml');
  const warnings: string[] = [];
  if (childrenNamed(ofd, 'DocBody').length > 1)
    warnings.push('OFD.xml holds several documents; only the first is read');
  const documentPath = resolve(rootRef, 'OFD.xml');
  const signaturesRef = childText(body, 'Signatures');
  const signaturesPath = signaturesRef === undefined ? undefined : resolve(signaturesRef, 'OFD.xml');

  const document = expectRoot(xmlOf(pkg, documentPath, 'OFD.xml'), 'Document', documentPath);
  const common = child(document, 'CommonData');
  if (!common) throw new OfdError('ofd_malformed', 'has no CommonData', documentPath);
  const maxUnit = childText(common, 'MaxUnitID');
  const boxText = child(common, 'PageArea') && childText(child(common, 'PageArea')!, 'PhysicalBox');
  const physicalBox: Box = boxText ? parseBox(boxText, 'PhysicalBox', documentPath) : [0, 0, 210, 297];
  if (!boxText) warnings.push(`${documentPath} has no PageArea; A4 is assumed`);

  const resources: Resources = { fonts: new Map(), media: new Map() };
  for (const name of ['PublicRes', 'DocumentRes'])
    for (const res of childrenNamed(common, name))
      if (res.text.trim()) readResources(pkg, resolve(res.text, documentPath), resources, warnings, documentPath);

  const templates = new Map<string, string>();
  for (const tpl of childrenNamed(common, 'TemplatePage')) {
    if (tpl.attrs.ID && tpl.attrs.BaseLoc) templates.set(tpl.attrs.ID, resolve(tpl.attrs.BaseLoc, documentPath));
  }

  const pageElements = childrenNamed(
    child(document, 'Pages') ?? { name: '', attrs: {}, children: [], text: '' },
    'Page',
  );
  if (pageElements.length === 0) throw new OfdError('ofd_malformed', 'lists no pages', documentPath);
  if (pageElements.length > limits.maxPages)
    throw new OfdError(
      'ofd_too_large',
      `lists ${pageElements.length} pages; at most ${limits.maxPages} are read`,
      documentPath,
    );
  const ids = new Set<string>();
  const pages: PageRef[] = pageElements.map((p, index) => {
    const id = p.attrs.ID?.trim();
    if (!id || !p.attrs.BaseLoc)
      throw new OfdError('ofd_malformed', `page ${index + 1} needs an ID and a BaseLoc`, documentPath);
    if (ids.has(id)) throw new OfdError('ofd_malformed', `page ID ${id} is used twice`, documentPath);
    ids.add(id);
    return { id, index, path: resolve(p.attrs.BaseLoc, documentPath) };
  });

  const annotationsRef = childText(document, 'Annotations');
  const annotationsPath = annotationsRef === undefined ? undefined : resolve(annotationsRef, documentPath);

  const doc: OfdDocument = {
    version,
    docType,
    info: readInfo(child(body, 'DocInfo')),
    documentPath,
    ...(annotationsPath ? { annotationsPath } : {}),
    ...(signaturesPath ? { signaturesPath } : {}),
    ...(maxUnit !== undefined ? { maxUnitId: parseNumber(maxUnit, 'MaxUnitID', documentPath) } : {}),
    physicalBox,
    pages,
    templates,
    fonts: resources.fonts,
    media: resources.media,
    warnings,
  };

  const parsed = new Map<number, Page>();
  const templateContent = new Map<string, PageContent>();
  let annotationFiles: Map<string, string[]> | undefined;
  /** The page annotation files of each page ID, from Annotations.xml; an Annotations.xml that is missing is a warning (keyword.ofd names one it lacks). */
  const annotationsOf = (pageId: string): Annotation[] => {
    if (!annotationsPath) return [];
    if (!annotationFiles) {
      annotationFiles = new Map();
      if (!pkg.find(annotationsPath))
        warnings.push(`${documentPath} names /${annotationsPath}, which is not in the package`);
      else {
        const root = expectRoot(xmlOf(pkg, annotationsPath, documentPath), 'Annotations', annotationsPath);
        for (const page of childrenNamed(root, 'Page')) {
          const loc = childText(page, 'FileLoc');
          if (!page.attrs.PageID || !loc) continue;
          const list = annotationFiles.get(page.attrs.PageID) ?? [];
          list.push(resolve(loc, annotationsPath));
          annotationFiles.set(page.attrs.PageID, list);
        }
      }
    }
    const out: Annotation[] = [];
    for (const path of annotationFiles.get(pageId) ?? []) {
      if (!pkg.find(path)) {
        warnings.push(`${annotationsPath} names /${path}, which is not in the package`);
        continue;
      }
      const root = expectRoot(xmlOf(pkg, path, annotationsPath), 'PageAnnot', path);
      const counter = { objects: 0 };
      for (const annot of childrenNamed(root, 'Annot')) {
        const appearance = child(annot, 'Appearance');
        out.push({
          ...(annot.attrs.ID ? { id: annot.attrs.ID } : {}),
          type: annot.attrs.Type ?? '',
          ...(annot.attrs.Subtype ? { subtype: annot.attrs.Subtype } : {}),
          visible: annot.attrs.Visible !== 'false',
          ...(appearance
            ? {
                appearance: {
                  boundary: parseBox(appearance.attrs.Boundary, 'Appearance Boundary', path),
                  objects: readObjects(appearance, path, limits, counter),
                },
              }
            : {}),
        });
      }
    }
    return out;
  };
  return {
    package: pkg,
    document: doc,
    page(index) {
      const ref = pages[index];
      if (!ref)
        throw new OfdError('ofd_not_found', `the document has ${pages.length} pages; there is no page ${index + 1}`);
      const known = parsed.get(index);
      if (known) return known;
      const root = expectRoot(xmlOf(pkg, ref.path, documentPath), 'Page', ref.path);
      const content = readContent(root, ref.path, physicalBox, limits);
      const used: Page['templates'] = [];
      for (const tpl of childrenNamed(root, 'Template')) {
        const tplPath = templates.get(tpl.attrs.TemplateID ?? '');
        if (!tplPath) {
          warnings.push(`${ref.path} uses template ${tpl.attrs.TemplateID}, which Document.xml does not declare`);
          continue;
        }
        let tplContent = templateContent.get(tplPath);
        if (!tplContent) {
          tplContent = readContent(
            expectRoot(xmlOf(pkg, tplPath, documentPath), 'Page', tplPath),
            tplPath,
            content.physicalBox,
            limits,
          );
          templateContent.set(tplPath, tplContent);
        }
        used.push({ content: tplContent, zOrder: tpl.attrs.ZOrder === 'Foreground' ? 'Foreground' : 'Background' });
      }
      const page: Page = {
        ...ref,
        physicalBox: content.physicalBox,
        templates: used,
        content,
        annotations: annotationsOf(ref.id),
      };
      parsed.set(index, page);
      return page;
    },
  };
}

function readContent(root: XmlElement, path: string, fallbackBox: Box, limits: OfdLimits): PageContent {
  const area = child(root, 'Area');
  const boxText = area && childText(area, 'PhysicalBox');
  const physicalBox = boxText ? parseBox(boxText, 'PhysicalBox', path) : fallbackBox;
  const counter = { objects: 0 };
  const layers: Layer[] = childrenNamed(child(root, 'Content') ?? root, 'Layer').map((layer) => ({
    type: layer.attrs.Type === 'Foreground' || layer.attrs.Type === 'Background' ? layer.attrs.Type : 'Body',
    objects: readObjects(layer, path, limits, counter),
  }));
  return { physicalBox, layers };
}

function readObjects(parent: XmlElement, path: string, limits: OfdLimits, counter: { objects: number }): PageObject[] {
  const out: PageObject[] = [];
  for (const element of parent.children) {
    if (!['TextObject', 'PathObject', 'ImageObject', 'PageBlock', 'CompositeObject'].includes(element.name)) continue;
    if (++counter.objects > limits.maxObjectsPerPage)
      throw new OfdError('ofd_too_large', `has more than ${limits.maxObjectsPerPage} graphic objects`, path);
    const a = element.attrs;
    if (element.name === 'PageBlock') {
      const block: BlockObject = {
        kind: 'block',
        boundary: [0, 0, 0, 0],
        objects: readObjects(element, path, limits, counter),
      };
      out.push(block);
      continue;
    }
    if (element.name === 'CompositeObject') continue;
    const common = {
      ...(a.ID ? { id: a.ID } : {}),
      boundary: parseBox(a.Boundary, `Boundary of ${element.name} ${a.ID ?? ''}`.trim(), path),
      ...(a.CTM ? { ctm: parseMatrix(a.CTM, path)! } : {}),
      ...(a.Alpha !== undefined ? { alpha: parseNumber(a.Alpha, 'Alpha', path) } : {}),
    };
    const fillColor = parseColor(child(element, 'FillColor'), path);
    const strokeColor = parseColor(child(element, 'StrokeColor'), path);
    const colors = { ...(fillColor ? { fillColor } : {}), ...(strokeColor ? { strokeColor } : {}) };
    if (element.name === 'TextObject') {
      let x = 0;
      let y = 0;
      const codes: TextCode[] = childrenNamed(element, 'TextCode').map((code) => {
        const text = code.text;
        const glyphs = Array.from(text).length;
        // A TextCode without X or Y continues where the previous one's last glyph was put (§11.3).
        const cx = code.attrs.X !== undefined ? parseNumber(code.attrs.X, 'TextCode X', path) : x;
        const cy = code.attrs.Y !== undefined ? parseNumber(code.attrs.Y, 'TextCode Y', path) : y;
        const deltaX = parseDeltas(code.attrs.DeltaX, Math.max(glyphs - 1, 0), path);
        const deltaY = parseDeltas(code.attrs.DeltaY, Math.max(glyphs - 1, 0), path);
        x = cx + deltaX.reduce((s, d) => s + d, 0);
        y = cy + deltaY.reduce((s, d) => s + d, 0);
        return { x: cx, y: cy, deltaX, deltaY, text };
      });
      out.push({
        kind: 'text',
        ...common,
        font: a.Font ?? '',
        size: parseNumber(a.Size, 'Size of a TextObject', path),
        ...(a.Weight ? { weight: parseNumber(a.Weight, 'Weight', path) } : {}),
        ...(a.Italic === 'true' ? { italic: true } : {}),
        fill: parseBool(a.Fill, true),
        stroke: parseBool(a.Stroke, false),
        ...colors,
        codes,
      });
    } else if (element.name === 'PathObject') {
      out.push({
        kind: 'path',
        ...common,
        data: childText(element, 'AbbreviatedData') ?? '',
        fill: parseBool(a.Fill, false),
        stroke: parseBool(a.Stroke, true),
        lineWidth: a.LineWidth !== undefined ? parseNumber(a.LineWidth, 'LineWidth', path) : 0.353,
        evenOdd: a.Rule === 'Even-Odd',
        ...colors,
      });
    } else {
      if (!a.ResourceID) throw new OfdError('ofd_malformed', '<ImageObject> has no ResourceID', path);
      out.push({ kind: 'image', ...common, resourceId: a.ResourceID });
    }
  }
  return out;
}
