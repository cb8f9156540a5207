// Reading OFD packages from another producer (ofdrw's fixtures): every one opens, its structure
// is what the XML says, and the text comes out as a reader would copy it.
import { describe, expect, it } from 'vitest';
import { extractText, findKeyword, openOfd, readPackage } from '../../src/ofd/index.js';
import { fixture } from './support.js';

const FIXTURES = ['helloworld.ofd', 'keyword.ofd', 'v4signed.ofd', 'SESV4SignDoc.ofd'];

describe('reading OFD packages', () => {
  it.each(FIXTURES)('opens %s with its pages and fonts', (name) => {
    const file = openOfd(fixture(name));
    expect(file.document.docType).toBe('OFD');
    expect(file.document.pages.length).toBe(1);
    const page = file.page(0);
    expect(page.content.layers.length).toBeGreaterThan(0);
    expect(file.document.fonts.size).toBeGreaterThan(0);
    // keyword.ofd names an Annotations.xml it does not hold: tolerated, and said.
    expect(file.document.warnings).toEqual(
      name === 'keyword.ofd' ? ['Doc_0/Document.xml names /Doc_0/Annotations.xml, which is not in the package'] : [],
    );
  });

  it('reads v4signed.ofd’s page annotation (the invoice’s stamp annotation, its appearance empty)', () => {
    expect(openOfd(fixture('v4signed.ofd')).page(0).annotations).toEqual([
      {
        id: '117',
        type: 'Stamp',
        subtype: 'SignatureInFile',
        visible: true,
        appearance: { boundary: [4.5, 104, 115, 20], objects: [] },
      },
    ]);
  });

  it('extracts the Chinese text of keyword.ofd, with the g-abbreviated DeltaX expanded per glyph', () => {
    const file = openOfd(fixture('keyword.ofd'));
    const [text] = extractText(file);
    expect(text).toContain('中国建设银行股份有限公司泰安分行');
    expect(text).toContain('鲁（2020）泰安市不动产证明第0014777号');
    expect(text).toContain('岱岳区青春创业开发区鑫源小区25号楼1单元601室');
    // DeltaX="g 2 4.9389 g 4 2.4694 g 10 4.9389 g 7 2.4695": 23 gaps for the 24 glyphs.
    const title = file
      .page(0)
      .content.layers[0]!.objects.find((o) => o.kind === 'text' && o.codes[0]!.text.startsWith('鲁'));
    expect(title?.kind === 'text' && title.codes[0]!.deltaX).toEqual([
      ...Array(2).fill(4.9389),
      ...Array(4).fill(2.4694),
      ...Array(10).fill(4.9389),
      ...Array(7).fill(2.4695),
    ]);
    // Its embedded font and its template page (an image of the certificate's background).
    expect([...file.document.fonts.values()][0]).toMatchObject({ fontName: '宋体', file: 'Doc_0/Res/Font7.ttf' });
    expect(file.page(0).templates[0]!.content.layers[0]!.objects[0]).toMatchObject({ kind: 'image', resourceId: '5' });
  });

  it('finds keywords in keyword.ofd where their glyphs are, for placing a seal', () => {
    const file = openOfd(fixture('keyword.ofd'));
    // TextObject Boundary="191.7523 57.6626 …", Size 4.2333, TextCode X=0 Y=3.6364 DeltaX=4.2333: two glyphs 4.2333 mm apart.
    const [hit, ...more] = findKeyword(file, '李伟');
    expect(more).toEqual([]);
    expect(hit!.page).toBe(0);
    const [x, y, w, h] = hit!.box;
    expect(x).toBeCloseTo(191.7523, 3);
    expect(y).toBeCloseTo(57.6626 + 3.6364 - 0.88 * 4.2333, 3);
    expect(w).toBeCloseTo(2 * 4.2333, 3);
    expect(h).toBeCloseTo(4.2333, 3);
    // Within a longer run: 泰安 occurs in the certificate number and in the bank's name.
    expect(findKeyword(file, '泰安').length).toBe(3);
    expect(findKeyword(file, '不在文中')).toEqual([]);
  });

  it('extracts helloworld.ofd with the entity in its text decoded', () => {
    expect(extractText(openOfd(fixture('helloworld.ofd')))).toEqual(['你好呀，OFD Reader&Writer！']);
  });

  it('finds the template v4signed.ofd names in another case (TPLS/ for Tpls/) and reads the invoice text', () => {
    const file = openOfd(fixture('v4signed.ofd'));
    expect(file.document.templates.get('2')).toBe('Doc_0/TPLS/Tpl_0/Content.xml');
    expect(file.package.find('Doc_0/TPLS/Tpl_0/Content.xml')).toBe('Doc_0/Tpls/Tpl_0/Content.xml');
    const [text] = extractText(file);
    expect(text).toContain('重庆增值税电子普通发票');
    expect(text).toContain('杭州融易算企业管理咨询有限公司');
    expect(file.page(0).physicalBox).toEqual([0, 0, 210, 140]);
  });

  it('keeps every file of the package under its normalised name, directories left out', () => {
    const pkg = readPackage(fixture('SESV4SignDoc.ofd'));
    expect(pkg.names.sort()).toEqual([
      'Doc_0/Document.xml',
      'Doc_0/Pages/Page_0/Content.xml',
      'Doc_0/PublicRes.xml',
      'Doc_0/Signs/Sign_0/Seal.esl',
      'Doc_0/Signs/Sign_0/Signature.xml',
      'Doc_0/Signs/Sign_0/SignedValue.dat',
      'Doc_0/Signs/Signatures.xml',
      'OFD.xml',
    ]);
  });

  it('refuses a page index the document does not have', () => {
    expect(() => openOfd(fixture('helloworld.ofd')).page(1)).toThrow(/has 1 pages; there is no page 2/);
  });
});
