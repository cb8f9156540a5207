// What the revisions after a signature changed, and whether the signature permits it
// (ISO 32000-1 §12.8.2.2 DocMDP, §12.8.2.4 FieldMDP; ETSI EN 319 142-1 §5.4 and §5.5).
//
// Permitted after a signature: validation data (/DSS and its VRI), document time-stamps, new
// signature fields whose widgets are invisible or belong to a later signature that itself
// verifies and was made in the revision that added them (its widget and its cross-page strips),
// form fill-in (a field's /V with its widgets' appearances) unless DocMDP P=1 or this
// signature's FieldMDP locks the field, and annotations only under DocMDP P=3. Everything else
// is listed, saying what changed, where, and what it draws. So are bytes that no
// cross-reference section lists (objects appended without one, anything after the last %%EOF),
// and objects the signed revision referred to without defining them, defined later.
//
// The judgement compares the document as signed with the document as it stands (what a viewer
// shows), walking what matters for display: the catalog, the form, the pages and their
// annotations; then every older object a later revision rewrote, by its role.
import { SigningError } from './errors.js';
import { PdfDict, PdfRef, PdfStream, PdfString, isName, isNumber, isRef, type PdfValue } from './pdf/objects.js';
import type { PdfDocument, XrefSection, XrefView } from './pdf/parser.js';
import { formText } from './pdf/text.js';
import { checkByteRange, revisionEndingAt, type Modification, type SignatureField } from './pdf-signatures.js';

/** What the cryptographic checks said about a signature (verify.ts). */
export interface SignatureStanding {
  valid: boolean;
}

export interface RevisionVerdict {
  /** The index of the signature whose CMS this one repeats, or null. One CMS counts once. */
  copyOf: number | null;
  kind: Modification;
  /** Every change that the signature does not permit, in words. */
  changes: string[];
  /** What to add to the signature's problems (the copy, a summary of the changes). */
  problems: string[];
}

const MAX_LISTED = 200;
const MAX_CHANGED_OBJECTS = 200_000;
const MAX_REACHABLE = 500_000;

interface Signed {
  index: number;
  f: SignatureField;
  /** Where its byte range ends, when the byte range is exactly its own. */
  end: number | null;
  /** The revision it signs (the newest cross-reference section before `end`). */
  revision: XrefSection | undefined;
  /** It verifies, its byte range is its own, and it is not a copy. */
  valid: boolean;
  copyOf: number | null;
  isDocumentTimestamp: boolean;
}

/**
 * Judges, for every signature whose byte range is usable, what the later revisions changed;
 * null for the others (their byte-range problem already says why they fail). `standing` is the
 * cryptographic verdict of each signature, in the same order as `found`.
 */
export function judgeRevisions(
  doc: PdfDocument,
  found: SignatureField[],
  standing: SignatureStanding[],
): Array<RevisionVerdict | null> {
  const signed: Signed[] = found.map((f, index) => {
    let end: number | null = null;
    try {
      const range = checkByteRange(doc, f);
      if (range.ok) end = range.byteRange[2] + range.byteRange[3];
    } catch (error) {
      rethrowLimits(error);
    }
    return {
      index,
      f,
      end,
      revision: end === null ? undefined : revisionEndingAt(doc, end),
      valid: end !== null && (standing[index]?.valid ?? false),
      copyOf: null,
      isDocumentTimestamp: isName(f.sig.get('Type'), 'DocTimeStamp') || isName(f.sig.get('SubFilter'), 'ETSI.RFC3161'),
    };
  });
  markCopies(doc, signed);
  const context = new DocumentContext(doc, signed);
  return signed.map((s) => {
    const problems: string[] = [];
    if (s.copyOf !== null)
      problems.push(
        `this field repeats the signature of field ${signed[s.copyOf]!.f.fieldName} (the same CMS); a signature counts once, so this copy is not a signature`,
      );
    if (s.end === null) return problems.length ? { copyOf: s.copyOf, kind: 'none', changes: [], problems } : null;
    // Nothing after it: no revision to judge (the common case, kept cheap).
    if (s.end === doc.buf.length) return { copyOf: s.copyOf, kind: 'none', changes: [], problems };
    let changes: string[];
    let later: boolean;
    try {
      if (!s.revision) throw new Error('the signed bytes contain no cross-reference section');
      ({ changes, later } = new AfterSignature(context, s).judge());
    } catch (error) {
      rethrowLimits(error);
      changes = [
        `the document as signed or a later revision cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      ];
      later = true;
    }
    const kind: Modification = changes.length ? 'altered' : later ? 'signatures-and-validation-data' : 'none';
    if (changes.length)
      problems.push(`the document was changed after this signature: ${changes.slice(0, 5).join('; ')}`);
    return { copyOf: s.copyOf, kind, changes, problems };
  });
}

function rethrowLimits(error: unknown): void {
  if (error instanceof SigningError && (error.code === 'pdf_too_large' || error.code === 'pdf_encrypted')) throw error;
}

/**
 * Two fields with the same /Contents carry one signature: the original is the one whose byte
 * range is its own and whose field was written in the revision it signs (or before); the rest
 * are copies, whatever time or place they claim.
 */
function markCopies(doc: PdfDocument, signed: Signed[]): void {
  // Values are compared as bytes; grouping by length first keeps it to a few comparisons.
  const byLength = new Map<number, Array<{ s: Signed; bytes: Buffer }>>();
  for (const s of signed) {
    const contents = s.f.sig.get('Contents');
    // An unfilled placeholder (all zeros; a DER value starts with 0x30) is nobody's signature.
    if (!(contents instanceof PdfString) || contents.bytes[0] === 0 || contents.bytes.length === 0) continue;
    const list = byLength.get(contents.bytes.length) ?? [];
    list.push({ s, bytes: contents.bytes });
    byLength.set(contents.bytes.length, list);
  }
  const inOwnRevision = (s: Signed) =>
    s.end !== null && !!s.f.fieldRef && (doc.definingSection(s.f.fieldRef.num)?.offset ?? Infinity) < s.end;
  for (const candidates of byLength.values()) {
    const grouped = new Set<Signed>();
    for (const [i, a] of candidates.entries()) {
      if (grouped.has(a.s)) continue;
      const twins = candidates.slice(i + 1).filter((b) => !grouped.has(b.s) && b.bytes.equals(a.bytes));
      if (twins.length === 0) continue;
      const group = [a.s, ...twins.map((t) => t.s)];
      for (const s of group) grouped.add(s);
      const original =
        group.find((s) => s.end !== null && inOwnRevision(s)) ?? group.find((s) => s.end !== null) ?? group[0]!;
      for (const s of group) {
        if (s === original) continue;
        s.copyOf = original.index;
        s.valid = false;
      }
    }
  }
}

// ---------------------------------------------------------------- the whole document, once

interface Finding {
  at: number;
  text: string;
}

/** What every signature's judgement shares: the bytes no section lists, and who refers to what. */
class DocumentContext {
  private unlistedFindings: Finding[] | null = null;
  private referrers: Map<number, number[]> | null = null;
  reachableTruncated = false;

  constructor(
    readonly doc: PdfDocument,
    readonly signed: Signed[],
  ) {}

  /**
   * Bytes after the first signed revision that belong to no listed object, cross-reference
   * section or startxref/%%EOF tail: objects appended without a cross-reference entry (which
   * some viewers still pick up when they repair a file) and anything after the last %%EOF.
   */
  unlisted(): Finding[] {
    if (this.unlistedFindings) return this.unlistedFindings;
    const ends = this.signed.map((s) => s.end).filter((e): e is number => e !== null);
    const findings: Finding[] = [];
    this.unlistedFindings = findings;
    if (ends.length === 0) return findings;
    const from = Math.min(...ends);
    const { doc } = this;
    const buf = doc.buf;
    const covered: Array<[number, number]> = [];
    let lastEof = from;
    for (const [i, section] of doc.sections.entries()) {
      if (section.offset < from) continue;
      const tail = tailAfter(buf, section.end);
      covered.push([section.offset, tail]);
      if (i === 0) lastEof = tail;
      const hidden = section.trailer.get('XRefStm');
      const offsets = [...section.entries.values()].flatMap((e) => (e.kind === 'offset' ? [e.offset] : []));
      if (isNumber(hidden)) offsets.push(hidden);
      for (const offset of offsets) {
        if (offset < from) continue;
        try {
          const span = doc.objectSpan(offset);
          covered.push([span.start, span.end]);
        } catch (error) {
          rethrowLimits(error);
          // An entry that points at no object leaves its bytes unlisted, and they are reported.
        }
      }
    }
    covered.sort((a, b) => a[0] - b[0]);
    let pos = from;
    const gap = (start: number, stop: number) => {
      let p = start;
      while (p < stop) {
        const c = buf[p]!;
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00) p++;
        else if (c === 0x25 && p < lastEof) {
          // A comment between revisions shows nothing; after the last %%EOF it is reported.
          while (p < stop && buf[p] !== 0x0a && buf[p] !== 0x0d) p++;
        } else {
          findings.push({ at: p, text: describeBytes(buf, p, stop, p >= lastEof) });
          return;
        }
      }
    };
    for (const [a, b] of covered) {
      if (a > pos) gap(pos, a);
      pos = Math.max(pos, b);
    }
    if (pos < buf.length) gap(pos, buf.length);
    return findings;
  }

  /** For every object reachable from the catalog as the file stands, the objects that refer to it. */
  referrersOf(): Map<number, number[]> {
    if (this.referrers) return this.referrers;
    const view = this.doc.current;
    const referrers = new Map<number, number[]>();
    this.referrers = referrers;
    const root = view.trailer.get('Root');
    if (!isRef(root)) return referrers;
    referrers.set(root.num, [-1]);
    const stack = [root.num];
    while (stack.length) {
      if (referrers.size > MAX_REACHABLE) {
        this.reachableTruncated = true;
        break;
      }
      const num = stack.pop()!;
      let value: PdfValue;
      try {
        value = view.getObject(num);
      } catch (error) {
        rethrowLimits(error);
        continue;
      }
      forEachRef(value, (ref) => {
        const list = referrers.get(ref.num);
        if (list) {
          if (list.length < 8 && !list.includes(num)) list.push(num);
        } else {
          referrers.set(ref.num, [num]);
          stack.push(ref.num);
        }
      });
    }
    return referrers;
  }
}

/** The end of `startxref N %%EOF` (and its end-of-line) after `pos`, or `pos` when there is none. */
function tailAfter(buf: Buffer, pos: number): number {
  const m = /^[\s\0]*startxref[\s\0]+\d+[\s\0]+%%EOF(\r\n|\r|\n)?/.exec(buf.toString('latin1', pos, pos + 64));
  return m ? pos + m[0].length : pos;
}

function describeBytes(buf: Buffer, at: number, stop: number, afterLast: boolean): string {
  const snippet = buf
    .toString('latin1', at, Math.min(stop, at + 48))
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
  const object = /^(\d+)\s+(\d+)\s+obj\b/.exec(snippet);
  if (object)
    return `object ${object[1]} at byte ${at} is in no cross-reference section${afterLast ? ', after the last %%EOF' : ''}: viewers that repair files would show it, this verifier does not`;
  return afterLast
    ? `bytes ${at}–${stop} after the last %%EOF belong to no revision ("${snippet}")`
    : `bytes ${at}–${stop} belong to no object that a cross-reference section lists ("${snippet}")`;
}

function forEachRef(value: PdfValue | undefined, visit: (ref: PdfRef) => void, depth = 0): void {
  if (depth > 100 || value === null || value === undefined) return;
  if (value instanceof PdfRef) visit(value);
  else if (Array.isArray(value)) for (const v of value) forEachRef(v, visit, depth + 1);
  else if (value instanceof PdfDict) for (const v of value.map.values()) forEachRef(v, visit, depth + 1);
  else if (value instanceof PdfStream) forEachRef(value.dict, visit, depth + 1);
}

// ---------------------------------------------------------------- one signature

type Role =
  | { kind: 'catalog' | 'acroform' | 'fields' | 'validation-data' | 'info' | 'metadata' }
  | { kind: 'page' | 'annots' | 'content' | 'resources'; page: number }
  | { kind: 'field'; name: string; isSig: boolean; hasValue: boolean; isWidget: boolean; page: number | null }
  | { kind: 'widget'; field: string; isSig: boolean; fieldHasValue: boolean; page: number | null }
  | { kind: 'annotation'; page: number; subtype: string }
  | { kind: 'signature'; field: string };

interface FieldInfo {
  name: string;
  type: string | null;
  dict: PdfDict;
}

class AfterSignature {
  private readonly doc: PdfDocument;
  private readonly end: number;
  private readonly before: XrefView;
  private readonly after: XrefView;
  /** DocMDP P in force for changes after this signature, or null without a certification. */
  private readonly permissions: 1 | 2 | 3 | null;
  private readonly isLocked: (field: string) => boolean;
  private readonly roles = new Map<number, Role>();
  private readonly changes = new Set<string>();

  constructor(
    private readonly context: DocumentContext,
    private readonly s: Signed,
  ) {
    this.doc = context.doc;
    this.end = s.end!;
    this.before = this.doc.viewBefore(this.end)!;
    this.after = this.doc.current;
    this.permissions = this.docMdp();
    this.isLocked = this.fieldLocks();
  }

  judge(): { changes: string[]; later: boolean } {
    for (const f of this.context.unlisted()) if (f.at >= this.end) this.add(f.text);
    const later = this.doc.sections.filter((x) => x.offset >= this.end);
    // The revision the signature signs must still be read: a later section whose /Prev skips
    // it makes the file's history differ from the one that was signed.
    const own = this.s.revision;
    const tail = own ? tailAfter(this.doc.buf, own.end) : this.end + 1;
    if (tail > this.end || !/^[\s\0]*$/.test(this.doc.buf.toString('latin1', tail, this.end)))
      this.add("the revision this signature signs is not part of the document's cross-reference chain any more");
    if (later.length > 0) {
      this.assignRoles();
      this.compareCatalog();
      this.comparePages();
      this.compareObjects(later);
      this.findShadowedObjects();
    }
    const list = [...this.changes];
    if (list.length > MAX_LISTED)
      return { changes: [...list.slice(0, MAX_LISTED), `and ${list.length - MAX_LISTED} more changes`], later: true };
    return { changes: list, later: later.length > 0 || list.length > 0 };
  }

  private add(change: string): void {
    this.changes.add(change);
  }

  // ------------------------------------------------------------ permissions

  /** The strictest DocMDP P of this signature and of a certification signed before it. */
  private docMdp(): 1 | 2 | 3 | null {
    const values: Array<1 | 2 | 3> = [];
    const own = docMdpOf(this.after, this.s.f.sig);
    if (own) values.push(own);
    const perms = this.before.dict(this.before.dict(this.before.trailer.get('Root'))?.get('Perms'));
    const certification = perms ? this.before.dict(perms.get('DocMDP')) : null;
    const certified = certification ? docMdpOf(this.before, certification) : null;
    if (certified) values.push(certified);
    return values.length ? (Math.min(...values) as 1 | 2 | 3) : null;
  }

  /** FieldMDP (§12.8.2.4): the fields this signature locks, from its SigRef or its field's /Lock. */
  private fieldLocks(): (field: string) => boolean {
    const view = this.after;
    const params: PdfDict[] = [];
    const refs = view.resolve(this.s.f.sig.get('Reference'));
    if (Array.isArray(refs))
      for (const r of refs.slice(0, 16)) {
        const sigRef = view.dict(r);
        const p = sigRef ? view.dict(sigRef.get('TransformParams')) : null;
        if (sigRef && p && isName(view.resolve(sigRef.get('TransformMethod')), 'FieldMDP')) params.push(p);
      }
    const lock = view.dict(this.s.f.field.get('Lock'));
    if (params.length === 0 && lock) params.push(lock);
    const rules = params.map((p) => {
      const action = view.resolve(p.get('Action'));
      const list = view.resolve(p.get('Fields'));
      const names = Array.isArray(list)
        ? list.map((x) => view.resolve(x)).flatMap((x) => (x instanceof PdfString ? [x.text()] : []))
        : [];
      return { action: isName(action) ? action.value : 'All', names };
    });
    return (field) =>
      rules.some((r) =>
        r.action === 'Include' ? r.names.includes(field) : r.action === 'Exclude' ? !r.names.includes(field) : true,
      );
  }

  private get p1(): string {
    return 'which the certification (DocMDP P=1) does not permit';
  }

  // ------------------------------------------------------------ roles of the signed objects

  /** What each object of the signed revision is, for describing and judging changes to it. */
  private assignRoles(): void {
    const { before, roles } = this;
    const set = (v: PdfValue | undefined, role: Role) => {
      if (isRef(v) && !roles.has(v.num)) roles.set(v.num, role);
    };
    const rootRef = before.trailer.get('Root');
    set(rootRef, { kind: 'catalog' });
    const catalog = before.dict(rootRef);
    const acroValue = catalog?.get('AcroForm');
    set(acroValue, { kind: 'acroform' });
    set(before.dict(acroValue)?.get('Fields'), { kind: 'fields' });
    const annotPage = new Map<number, number>();
    for (const page of this.doc.pagesOf(before)) {
      set(page.ref, { kind: 'page', page: page.index + 1 });
      const annots = page.dict.get('Annots');
      set(annots, { kind: 'annots', page: page.index + 1 });
      const list = before.resolve(annots);
      if (Array.isArray(list)) for (const a of list) if (isRef(a)) annotPage.set(a.num, page.index + 1);
      const contents = page.dict.get('Contents');
      set(contents, { kind: 'content', page: page.index + 1 });
      const streams = before.resolve(contents);
      if (Array.isArray(streams)) for (const c of streams) set(c, { kind: 'content', page: page.index + 1 });
      set(page.dict.get('Resources'), { kind: 'resources', page: page.index + 1 });
    }
    this.walkFields(before, (node, info) => {
      if (!isRef(node.ref)) return;
      const isSig = info.type === 'Sig';
      if (node.isField) {
        const hasValue = node.dict.has('V');
        if (isSig) set(node.dict.get('V'), { kind: 'signature', field: info.name });
        set(node.ref, {
          kind: 'field',
          name: info.name,
          isSig,
          hasValue,
          isWidget: node.isWidget,
          page: annotPage.get(node.ref.num) ?? null,
        });
      } else
        set(node.ref, {
          kind: 'widget',
          field: info.name,
          isSig,
          fieldHasValue: info.dict.has('V'),
          page: annotPage.get(node.ref.num) ?? null,
        });
    });
    for (const [num, page] of annotPage) {
      const subtype = before.dict(new PdfRef(num, 0))?.get('Subtype');
      if (!roles.has(num)) roles.set(num, { kind: 'annotation', page, subtype: isName(subtype) ? subtype.value : '?' });
    }
    const dss = catalog ? before.dict(catalog.get('DSS')) : null;
    set(catalog?.get('DSS'), { kind: 'validation-data' });
    if (dss) {
      for (const key of ['Certs', 'CRLs', 'OCSPs', 'VRI']) set(dss.get(key), { kind: 'validation-data' });
      const vri = before.dict(dss.get('VRI'));
      if (vri) for (const v of [...vri.map.values()].slice(0, 10_000)) set(v, { kind: 'validation-data' });
    }
    set(before.trailer.get('Info'), { kind: 'info' });
    set(catalog?.get('Metadata'), { kind: 'metadata' });
  }

  /** Every field node and widget under /Fields, with the field it belongs to. */
  private walkFields(
    view: XrefView,
    visit: (node: { ref: PdfValue; dict: PdfDict; isField: boolean; isWidget: boolean }, field: FieldInfo) => void,
    fields?: PdfValue[],
  ): void {
    const list = fields ?? view.resolve(view.dict(view.dict(view.trailer.get('Root'))?.get('AcroForm'))?.get('Fields'));
    if (!Array.isArray(list)) return;
    const stack: Array<{ v: PdfValue; prefix: string; type: string | null; depth: number }> = list.map((v) => ({
      v,
      prefix: '',
      type: null,
      depth: 0,
    }));
    const seen = new Set<number>();
    let visits = 0;
    while (stack.length && visits++ < 100_000) {
      const { v, prefix, type, depth } = stack.pop()!;
      if (isRef(v)) {
        if (seen.has(v.num)) continue;
        seen.add(v.num);
      }
      const dict = view.dict(v);
      if (!dict || depth > 32) continue;
      const t = dict.get('T');
      const partial = t instanceof PdfString ? t.text() : '';
      const name = prefix && partial ? `${prefix}.${partial}` : prefix || partial;
      const ft = dict.get('FT');
      const fieldType = isName(ft) ? ft.value : type;
      const isWidget = isName(dict.get('Subtype'), 'Widget') || dict.has('Rect');
      visit({ ref: v, dict, isField: true, isWidget }, { name, type: fieldType, dict });
      const kids = view.resolve(dict.get('Kids'));
      if (!Array.isArray(kids)) continue;
      for (const k of kids.slice(0, 10_000)) {
        const kid = view.dict(k);
        if (!kid) continue;
        if (kid.has('T')) stack.push({ v: k, prefix: name, type: fieldType, depth: depth + 1 });
        else visit({ ref: k, dict: kid, isField: false, isWidget: true }, { name, type: fieldType, dict });
      }
    }
  }

  // ------------------------------------------------------------ catalog and form

  private compareCatalog(): void {
    const { before, after } = this;
    const oldRoot = before.trailer.get('Root');
    const newRoot = after.trailer.get('Root');
    if (!isRef(oldRoot) || !isRef(newRoot) || oldRoot.num !== newRoot.num) {
      this.add(
        `the document catalog was replaced: the trailer's /Root now names object ${isRef(newRoot) ? newRoot.num : '?'}`,
      );
      return;
    }
    const oldCatalog = before.dict(oldRoot) ?? new PdfDict();
    const newCatalog = after.dict(newRoot) ?? new PdfDict();
    // Validation data and metadata do not change what a page shows (ETSI EN 319 142-1 §5.4).
    for (const key of changedKeys(oldCatalog, newCatalog, ['AcroForm', 'DSS', 'Extensions', 'Metadata']))
      this.add(`the document catalog's /${key} was ${presence(oldCatalog, newCatalog, key)}`);
    const oldForm = before.dict(oldCatalog.get('AcroForm')) ?? new PdfDict();
    const newForm = after.dict(newCatalog.get('AcroForm')) ?? new PdfDict();
    for (const key of changedKeys(oldForm, newForm, ['Fields', 'SigFlags', 'DR', 'DA']))
      this.add(
        key === 'NeedAppearances'
          ? "the form's /NeedAppearances was changed, so viewers redraw its fields"
          : `the form's /${key} was ${presence(oldForm, newForm, key)}`,
      );
    const oldFields = arrayOf(before, oldForm.get('Fields'));
    const newFields = arrayOf(after, newForm.get('Fields'));
    if (oldFields.length > newFields.length || !oldFields.every((x, i) => sameValue(x, newFields[i])))
      this.add("fields were removed from the form's /Fields or reordered");
    else this.judgeAddedFields(newFields.slice(oldFields.length));
  }

  /** A form may be filled in and signed, not extended with other fields (§12.8.2.2.2 P=2). */
  private judgeAddedFields(added: PdfValue[]): void {
    if (added.length === 0) return;
    const reported = new Set<string>();
    this.walkFields(
      this.after,
      (node, field) => {
        if (!node.isField || reported.has(field.name)) return;
        if (field.type !== 'Sig') {
          reported.add(field.name);
          this.add(
            `a ${fieldTypeName(field.type)} field "${field.name}" was added to the form, which filling in a form does not allow`,
          );
        } else if (this.permissions === 1 && !this.isLaterTimestampField(node.ref)) {
          reported.add(field.name);
          this.add(`a signature field "${field.name}" was added, ${this.p1}`);
        }
      },
      added,
    );
  }

  /** PAdES adds document time-stamps whatever DocMDP says (ETSI EN 319 142-1 §5.5). */
  private isLaterTimestampField(ref: PdfValue): boolean {
    return (
      isRef(ref) &&
      this.context.signed.some((t) => t.isDocumentTimestamp && this.isLater(t) && t.f.fieldRef?.num === ref.num)
    );
  }

  private isLater(t: Signed): boolean {
    return t.valid && t.end !== null && t.end > this.end && t.revision !== undefined;
  }

  // ------------------------------------------------------------ pages and annotations

  private comparePages(): void {
    const { before, after } = this;
    const oldPages = this.doc.pagesOf(before);
    const newPages = this.doc.pages();
    if (oldPages.length !== newPages.length || oldPages.some((p, i) => p.ref.num !== newPages[i]!.ref.num)) {
      this.add(
        oldPages.length === newPages.length
          ? 'pages were replaced or reordered'
          : `pages were ${newPages.length > oldPages.length ? 'added' : 'removed'}: ${oldPages.length} signed, ${newPages.length} now`,
      );
    }
    for (let i = 0; i < Math.min(oldPages.length, newPages.length); i++) {
      const oldPage = oldPages[i]!;
      const newPage = newPages[i]!;
      if (oldPage.ref.num !== newPage.ref.num) continue;
      const keys = changedKeys(oldPage.dict, newPage.dict, ['Annots']);
      if (keys.length) this.add(`page ${i + 1}: its ${keys.map((k) => `/${k}`).join(', ')} changed`);
      const oldList = arrayOf(before, oldPage.dict.get('Annots'));
      const newList = arrayOf(after, newPage.dict.get('Annots'));
      const isIn = (v: PdfValue, list: PdfValue[]) =>
        isRef(v) ? list.some((x) => isRef(x) && x.num === v.num) : list.some((x) => !isRef(x) && sameValue(x, v));
      for (const removed of oldList.filter((v) => !isIn(v, newList)))
        if (this.permissions !== 3)
          this.add(`${article(subtypeOf(before, removed))} annotation was removed from page ${i + 1}`);
      for (const added of newList.filter((v) => !isIn(v, oldList)).slice(0, 10_000))
        this.judgeAddedAnnotation(added, i + 1);
    }
  }

  private judgeAddedAnnotation(value: PdfValue, page: number): void {
    const annot = this.after.dict(value);
    if (!annot) return;
    const ref = isRef(value) ? value : null;
    const subtype = subtypeOf(this.after, value);
    if (subtype === 'Widget') {
      const field = this.fieldOfWidget(annot);
      if (field.type === 'Sig') return this.judgeSignatureWidget(annot, ref, field, page);
      this.add(
        `a ${fieldTypeName(field.type)} field widget${field.name ? ` "${field.name}"` : ''} was added on page ${page}${this.drawsOver(annot)}`,
      );
      return;
    }
    const nm = annot.get('NM');
    const stripOf = subtype === 'Stamp' && nm instanceof PdfString ? /^(.*):\d+$/.exec(nm.text())?.[1] : undefined;
    if (stripOf !== undefined && ref && this.laterOwner(ref, (t) => t.f.fieldName === stripOf)) return;
    if (this.permissions === 3) return;
    this.add(
      `${article(subtype)} annotation${nm instanceof PdfString ? ` named "${nm.text()}"` : ''} was added on page ${page}${this.drawsOver(annot)}`,
    );
  }

  /** The later signature (verified, made in the revision that wrote `ref`) that `matches`. */
  private laterOwner(ref: PdfRef, matches: (t: Signed) => boolean): Signed | undefined {
    const section = this.doc.definingSection(ref.num);
    return this.context.signed.find((t) => this.isLater(t) && t.revision === section && matches(t));
  }

  private judgeSignatureWidget(annot: PdfDict, ref: PdfRef | null, field: FieldInfo, page: number): void {
    const ownedBy = (t: Signed) => !!ref && t.f.widgetRefs.some((w) => w?.num === ref.num);
    const owner = ref ? this.laterOwner(ref, ownedBy) : undefined;
    if (this.permissions === 1 && !(owner?.isDocumentTimestamp ?? false)) {
      this.add(`a signature field "${field.name}" was added, ${this.p1}`);
      return;
    }
    if (owner || isInvisible(this.after, annot)) return;
    const claimed = this.context.signed.find(ownedBy);
    const why = !claimed
      ? field.dict.has('V')
        ? 'its signature is not in the form'
        : 'without a signature'
      : claimed.copyOf !== null
        ? `a copy of signature ${this.context.signed[claimed.copyOf]!.f.fieldName}`
        : !claimed.valid
          ? 'its signature is not valid'
          : 'written in a revision its signature does not sign';
    this.add(`a visible signature field "${field.name}" (${why}) was added on page ${page}${this.drawsOver(annot)}`);
  }

  private fieldOfWidget(widget: PdfDict): FieldInfo {
    const names: string[] = [];
    let type: string | null = null;
    let node: PdfDict | null = widget;
    let field: PdfDict = widget;
    for (let i = 0; node && i < 32; i++) {
      const t = node.get('T');
      if (t instanceof PdfString) {
        names.unshift(t.text());
        if (names.length === 1) field = node;
      }
      const ft = node.get('FT');
      if (type === null && isName(ft)) type = ft.value;
      node = this.after.dict(node.get('Parent'));
    }
    return { name: names.join('.'), type, dict: field };
  }

  /** ", drawing the text "…" over the signed content" (or what else it draws, or nothing). */
  private drawsOver(annot: PdfDict): string {
    const what = drawing(this.doc, this.after, annot);
    return what ? ` and draws ${what} over the signed content` : ' (it draws nothing)';
  }

  // ------------------------------------------------------------ rewritten objects

  private compareObjects(later: XrefSection[]): void {
    const { before, after } = this;
    const seen = new Set<number>();
    for (const section of later) {
      for (const num of section.entries.keys()) {
        if (seen.has(num)) continue;
        seen.add(num);
        if (seen.size > MAX_CHANGED_OBJECTS) {
          this.add('later revisions rewrite too many objects to inspect');
          return;
        }
        const was = before.entry(num);
        if (!was || was.kind === 'free') continue; // new: judged where it is referred to
        const role = this.roles.get(num);
        let old: PdfValue;
        let now: PdfValue;
        try {
          old = before.getObject(num);
          now = after.getObject(num);
        } catch (error) {
          rethrowLimits(error);
          this.add(`object ${num}${roleText(role)} cannot be read in a later revision`);
          continue;
        }
        if (sameValue(old, now)) continue;
        if (after.entry(num)?.kind === 'free' || now === null) {
          if (!isHarmless(role) && !(role?.kind === 'annotation' && this.permissions === 3))
            this.add(`object ${num}${roleText(role, old)} was deleted`);
          continue;
        }
        this.judgeRewritten(num, role, old, now);
      }
    }
  }

  private judgeRewritten(num: number, role: Role | undefined, old: PdfValue, now: PdfValue): void {
    if (role && isHarmless(role)) return;
    const oldDict = dictOf(old);
    const newDict = dictOf(now);
    switch (role?.kind) {
      // Judged as a whole by compareCatalog and comparePages, whichever object holds them.
      case 'catalog':
      case 'acroform':
      case 'fields':
      case 'page':
      case 'annots':
        return;
      case 'signature':
        this.add(`the signature dictionary of field ${role.field} (object ${num}) was changed`);
        return;
      case 'field':
        if (!oldDict || !newDict) break;
        if (!role.isSig) return this.judgeFillIn(role.name, oldDict, newDict, ['V', 'AP', 'AS']);
        if (role.hasValue) {
          this.add(`the signed field ${role.name} (object ${num}) was changed`);
          return;
        }
        // An empty signature field being signed (§12.7.4.5): it gains /V and an appearance.
        if (changedKeys(oldDict, newDict, ['V', 'AP']).length) break;
        if (role.isWidget)
          this.judgeSignatureWidget(
            newDict,
            new PdfRef(num, 0),
            { name: role.name, type: 'Sig', dict: newDict },
            role.page ?? 0,
          );
        return;
      case 'widget':
        if (!oldDict || !newDict) break;
        if (!role.isSig) return this.judgeFillIn(role.field, oldDict, newDict, ['AP', 'AS']);
        if (!role.fieldHasValue && !changedKeys(oldDict, newDict, ['AP']).length) {
          const field = this.fieldOfWidget(newDict);
          this.judgeSignatureWidget(newDict, new PdfRef(num, 0), field, role.page ?? 0);
          return;
        }
        this.add(`the widget of signature field ${role.field}${role.page ? ` on page ${role.page}` : ''} was changed`);
        return;
      case 'annotation':
        if (this.permissions === 3) return;
        this.add(
          `${article(role.subtype)} annotation on page ${role.page} was changed${newDict ? this.drawsOver(newDict).replace(' and draws', ' and now draws') : ''}`,
        );
        return;
      default:
        break;
    }
    this.add(`object ${num}${roleText(role, old)} was changed`);
  }

  /** Form fill-in (§12.8.2.2.2): a field's value and its widgets' appearances, where permitted. */
  private judgeFillIn(name: string, old: PdfDict, now: PdfDict, allowed: string[]): void {
    const keys = changedKeys(old, now, allowed);
    if (keys.length) this.add(`field ${name}: its ${keys.map((k) => `/${k}`).join(', ')} changed`);
    else if (this.permissions === 1) this.add(`the value of field ${name} was changed, ${this.p1}`);
    else if (this.isLocked(name))
      this.add(`the value of field ${name} was changed, which this signature locks (FieldMDP)`);
  }

  // ------------------------------------------------------------ objects defined later

  /**
   * An object the signed revision refers to without defining it, defined by a later revision,
   * changes what the signed objects show while none of them is rewritten (a shadow attack).
   */
  private findShadowedObjects(): void {
    const referrers = this.context.referrersOf();
    if (this.context.reachableTruncated)
      this.add('the document has too many objects to check what later revisions define');
    for (const [num, from] of referrers) {
      const was = this.before.entry(num);
      if (was && was.kind !== 'free') continue;
      const now = this.after.entry(num);
      if (!now || now.kind === 'free') continue;
      const signedReferrer = from.find((r) => {
        if (r < 0) return false;
        const entry = this.before.entry(r);
        return !!entry && entry.kind !== 'free' && (this.doc.definingSection(r)?.offset ?? Infinity) < this.end;
      });
      if (signedReferrer !== undefined)
        this.add(
          `object ${num}, which signed object ${signedReferrer}${roleText(this.roles.get(signedReferrer))} refers to but the signed revision did not define, is defined by a later revision`,
        );
    }
  }
}

// ---------------------------------------------------------------- helpers

function docMdpOf(view: XrefView, sig: PdfDict): 1 | 2 | 3 | null {
  const refs = view.resolve(sig.get('Reference'));
  if (!Array.isArray(refs)) return null;
  for (const r of refs.slice(0, 16)) {
    const sigRef = view.dict(r);
    if (!sigRef || !isName(view.resolve(sigRef.get('TransformMethod')), 'DocMDP')) continue;
    const p = view.resolve(view.dict(sigRef.get('TransformParams'))?.get('P'));
    // Table 254: P defaults to 2.
    return p === 1 || p === 3 ? p : 2;
  }
  return null;
}

/** Hidden or NoView (§12.5.3), a zero-area /Rect, or no normal appearance: it shows nothing. */
function isInvisible(view: XrefView, annot: PdfDict): boolean {
  const flags = view.resolve(annot.get('F'));
  if (isNumber(flags) && (flags & 2 || flags & 32)) return true;
  const rect = view.resolve(annot.get('Rect'));
  if (Array.isArray(rect) && rect.length === 4) {
    const [x0, y0, x1, y1] = rect.map((v) => view.resolve(v));
    if ([x0, y0, x1, y1].every(isNumber) && ((x1 as number) === (x0 as number) || (y1 as number) === (y0 as number)))
      return true;
  }
  return !(normalAppearance(view, annot) instanceof PdfStream);
}

function normalAppearance(view: XrefView, annot: PdfDict): PdfValue | undefined {
  const ap = view.dict(annot.get('AP'));
  let normal = ap ? view.resolve(ap.get('N')) : undefined;
  // A widget with states (check boxes) shows the one its /AS names.
  if (normal instanceof PdfDict) {
    const state = annot.get('AS');
    normal = isName(state) ? view.resolve(normal.get(state.value)) : undefined;
  }
  return normal;
}

/** What an annotation shows: its appearance's text, an image, graphics; or the text a viewer draws from /Contents. */
function drawing(doc: PdfDocument, view: XrefView, annot: PdfDict): string | null {
  const flags = view.resolve(annot.get('F'));
  if (isNumber(flags) && (flags & 2 || flags & 32)) return null;
  const normal = normalAppearance(view, annot);
  if (normal instanceof PdfStream) {
    let text = '';
    try {
      text = formText(doc, normal).replace(/\s+/g, ' ').trim();
    } catch (error) {
      rethrowLimits(error);
    }
    if (text) return `the text "${text.length > 80 ? `${text.slice(0, 80)}…` : text}"`;
    const xobjects = view.dict(view.dict(normal.dict.get('Resources'))?.get('XObject'));
    const hasImage =
      !!xobjects &&
      [...xobjects.map.values()].some((x) => {
        const v = view.resolve(x);
        return v instanceof PdfStream && isName(v.dict.get('Subtype'), 'Image');
      });
    return hasImage ? 'an image' : 'graphics';
  }
  // Viewers draw FreeText and similar annotations without an appearance from /Contents.
  const contents = annot.get('Contents');
  const subtype = annot.get('Subtype');
  if (contents instanceof PdfString && isName(subtype) && !['Link', 'Popup', 'Widget'].includes(subtype.value))
    return `the text "${contents.text().slice(0, 80)}"`;
  return null;
}

function dictOf(v: PdfValue): PdfDict | null {
  return v instanceof PdfDict ? v : v instanceof PdfStream ? v.dict : null;
}

function arrayOf(view: XrefView, v: PdfValue | undefined): PdfValue[] {
  const list = view.resolve(v);
  return Array.isArray(list) ? list : [];
}

function subtypeOf(view: XrefView, v: PdfValue): string {
  const subtype = view.dict(v)?.get('Subtype');
  return isName(subtype) ? subtype.value : 'unknown';
}

const article = (word: string) => `${/^[AEIOU]/i.test(word) ? 'an' : 'a'} ${word}`;

function fieldTypeName(type: string | null): string {
  return type === 'Tx'
    ? 'text'
    : type === 'Btn'
      ? 'button'
      : type === 'Ch'
        ? 'choice'
        : type === 'Sig'
          ? 'signature'
          : 'form';
}

function isHarmless(role: Role | undefined): boolean {
  // Validation data, document information and XMP metadata are not drawn on any page.
  return role?.kind === 'validation-data' || role?.kind === 'info' || role?.kind === 'metadata';
}

function roleText(role: Role | undefined, old?: PdfValue): string {
  switch (role?.kind) {
    case 'content':
      return ` (the content of page ${role.page})`;
    case 'resources':
      return ` (the resources of page ${role.page})`;
    case 'annotation':
      return ` (${article(role.subtype)} annotation on page ${role.page})`;
    case 'page':
      return ` (page ${role.page})`;
    case 'field':
      return ` (field ${role.name})`;
    case 'widget':
      return ` (a widget of field ${role.field})`;
    case 'signature':
      return ` (the signature of field ${role.field})`;
    case 'catalog':
      return ' (the document catalog)';
    default:
      break;
  }
  const type = old instanceof PdfDict ? old.get('Type') : old instanceof PdfStream ? old.dict.get('Type') : undefined;
  return isName(type) ? ` (${type.value})` : old instanceof PdfStream ? ' (a stream)' : '';
}

function changedKeys(a: PdfDict, b: PdfDict, allowed: string[]): string[] {
  const keys = new Set([...a.map.keys(), ...b.map.keys()]);
  return [...keys].filter((k) => !allowed.includes(k) && !sameValue(a.get(k), b.get(k)));
}

function presence(a: PdfDict, b: PdfDict, key: string): string {
  return !a.has(key) ? 'added' : !b.has(key) ? 'removed' : 'changed';
}

export function sameValue(a: PdfValue | undefined, b: PdfValue | undefined, depth = 0): boolean {
  if (depth > 50) return false;
  if (a === b) return true;
  if (a instanceof PdfRef && b instanceof PdfRef) return a.num === b.num && a.gen === b.gen;
  if (a instanceof PdfString && b instanceof PdfString) return a.bytes.equals(b.bytes);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i], depth + 1));
  if (a instanceof PdfStream && b instanceof PdfStream)
    return a.data.equals(b.data) && sameValue(a.dict, b.dict, depth + 1);
  if (a instanceof PdfDict && b instanceof PdfDict) {
    if (a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) if (!sameValue(v, b.get(k), depth + 1)) return false;
    return true;
  }
  return (
    typeof a === 'object' &&
    a !== null &&
    typeof b === 'object' &&
    b !== null &&
    'value' in a &&
    'value' in b &&
    a.value === b.value
  );
}
