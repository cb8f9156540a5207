// XML of an OFD package, read with fast-xml-parser. OFD files never need a DOCTYPE, so one is
// refused outright, and with it every entity trick (external entities, "billion laughs"): only
// the five predefined entities and character references are expanded. Namespace prefixes are
// dropped (`ofd:Page` → `Page`): producers use `http://www.ofdspec.org/2016`, older ones
// `http://www.ofdspec.org`, and some leave inner elements unprefixed.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { OfdError } from './errors.js';

export interface XmlElement {
  /** Local name, without its namespace prefix. */
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (its text nodes joined), not that of its children. */
  text: string;
}

const PARSER_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
} as const;
const parsers = new Map<number, XMLParser>();

/** A parser per depth limit: fast-xml-parser counts nesting itself (maxNestedTags), before building anything. */
function parserFor(maxDepth: number): XMLParser {
  let parser = parsers.get(maxDepth);
  if (!parser) {
    parser = new XMLParser({ ...PARSER_OPTIONS, maxNestedTags: maxDepth });
    parsers.set(maxDepth, parser);
  }
  return parser;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Ordered = Record<string, unknown>;

/** Parses the XML file `path`; refuses a DOCTYPE, entity declarations, non-UTF-8 bytes, too much nesting. */
export function parseXml(
  bytes: Uint8Array,
  path: string,
  limits: { maxXmlBytes: number; maxXmlDepth: number },
): XmlElement {
  if (bytes.length > limits.maxXmlBytes)
    throw new OfdError(
      'ofd_too_large',
      `is ${bytes.length} bytes of XML; at most ${limits.maxXmlBytes} are read`,
      path,
    );
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new OfdError('ofd_xml_invalid', 'is not UTF-8 (GB/T 33190 §7.2 requires it)', path);
  }
  const declaration = /^\uFEFF?<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (declaration && !/^utf-?8$/i.test(declaration[1]!))
    throw new OfdError('ofd_xml_invalid', `declares the encoding ${declaration[1]}; only UTF-8 is read`, path);
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text))
    throw new OfdError('ofd_xml_invalid', 'declares a DOCTYPE or entities, which OFD files never need; refused', path);
  text = text.replace(/^\uFEFF/, '');
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw new OfdError('ofd_xml_invalid', `is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`, path);
  let nodes: Ordered[];
  try {
    nodes = parserFor(limits.maxXmlDepth).parse(text) as Ordered[];
  } catch (error) {
    const message = (error as Error).message;
    throw new OfdError(
      'ofd_xml_invalid',
      /nested/i.test(message)
        ? `nests elements more than ${limits.maxXmlDepth} deep`
        : `cannot be read as XML: ${message}`,
      path,
    );
  }
  const roots = nodes.map((node) => toElement(node, path, 1, limits.maxXmlDepth)).filter((e) => e !== undefined);
  if (roots.length !== 1) throw new OfdError('ofd_xml_invalid', 'does not have exactly one root element', path);
  return roots[0]!;
}

function toElement(node: Ordered, path: string, depth: number, maxDepth: number): XmlElement | undefined {
  if (depth > maxDepth) throw new OfdError('ofd_xml_invalid', `nests elements more than ${maxDepth} deep`, path);
  const name = Object.keys(node).find((key) => key !== ':@');
  if (name === undefined || name === '#text' || name.startsWith('?') || name.startsWith('!')) return undefined;
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries((node[':@'] ?? {}) as Record<string, unknown>)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
    attrs[key] = String(value);
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[name] ?? []) as Ordered[]) {
    if ('#text' in child) text += String(child['#text']);
    else {
      const element = toElement(child, path, depth + 1, maxDepth);
      if (element) children.push(element);
    }
  }
  return { name, attrs, children, text };
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The trimmed text of the child `name`, undefined when there is no such child or it is empty. */
export function childText(element: XmlElement, name: string): string | undefined {
  const text = child(element, name)?.text.trim();
  return text ? text : undefined;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export const OFD_NAMESPACE = 'http://www.ofdspec.org/2016';

/** An element written by Sigil: `ofd:` prefixed, attributes in the order given, undefined ones left out. */
export function el(
  name: string,
  attrs: Record<string, string | number | undefined> = {},
  ...content: Array<string | undefined>
): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  const inner = content.filter((c) => c !== undefined).join('');
  return inner === '' ? `<ofd:${name}${a}/>` : `<ofd:${name}${a}>${inner}</ofd:${name}>`;
}

/** Text content of an element written by `el`. */
export const t = escapeXml;

/** A whole XML file whose root element is `root` (written by `el`), with the OFD namespace declared. */
export function xmlFile(root: string): Uint8Array {
  const withNs = root.replace(/^<ofd:(\w+)/, `<ofd:$1 xmlns:ofd="${OFD_NAMESPACE}"`);
  return new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?>\n${withNs}`);
}
