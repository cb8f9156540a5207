// Hostile OFD packages, each built with Python's zipfile (not with the fflate code under test):
// every one is refused with the rule it breaks named, before it can take memory or time.
import { afterAll, describe, expect, it } from 'vitest';
import { OfdError, ofdLimits, openOfd, readPackage, verifyOfd } from '../../src/ofd/index.js';
import { fixture, pythonZip, pythonUnzip, tempDir } from './support.js';

const tmp = tempDir('sigil-ofd-bad-');
afterAll(() => tmp.remove());

const OFD_XML = (root = 'Doc_0/Document.xml', version = '1.0') =>
  `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="${version}" DocType="OFD"><ofd:DocBody><ofd:DocRoot>${root}</ofd:DocRoot></ofd:DocBody></ofd:OFD>`;
const DOCUMENT = (page = 'Pages/Page_0/Content.xml') =>
  `<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData><ofd:MaxUnitID>3</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="${page}"/></ofd:Pages></ofd:Document>`;
const PAGE = (inner = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="2">${inner}</ofd:Layer></ofd:Content></ofd:Page>`;

/** A minimal valid package, with `set` replacing or adding files. */
function pkg(set: Record<string, string | Buffer> = {}, raw: Parameters<typeof pythonZip>[1]['raw'] = []): Buffer {
  return pythonZip(tmp, {
    set: { 'OFD.xml': OFD_XML(), 'Doc_0/Document.xml': DOCUMENT(), 'Doc_0/Pages/Page_0/Content.xml': PAGE(), ...set },
    raw,
  });
}

function refusal(run: () => unknown): OfdError {
  try {
    run();
  } catch (error) {
    if (error instanceof OfdError) return error;
    throw error;
  }
  throw new Error('was not refused');
}

describe('OFD bad input', () => {
  it('reads the minimal package these cases start from', () => {
    expect(openOfd(pkg()).page(0).content.layers).toHaveLength(1);
  });

  it('refuses a zip bomb by its compression ratio before inflating it', () => {
    const bomb = pkg({}, [{ name: 'Doc_0/Res/bomb.bin', data: Buffer.alloc(50 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(200 * 1024);
    const error = refusal(() => readPackage(bomb));
    expect(error.code).toBe('ofd_too_large');
    expect(error.message).toMatch(
      /Doc_0\/Res\/bomb\.bin is compressed \d+ to 1; more than 200 to 1 is refused as a zip bomb/,
    );
  });

  it('refuses entries whose declared sizes add up past the total, and one entry past its own limit', () => {
    const big = pkg({}, [
      { name: 'a.bin', data: Buffer.alloc(300_000, 1) },
      { name: 'b.bin', data: Buffer.alloc(300_000, 2) },
    ]);
    expect(refusal(() => readPackage(big, ofdLimits({ maxTotalBytes: 500_000 }))).message).toMatch(
      /would inflate to more than 500000 bytes in all/,
    );
    expect(refusal(() => readPackage(big, ofdLimits({ maxEntryBytes: 200_000 }))).message).toMatch(
      /entry a\.bin would inflate to 300000 bytes; at most 200000/,
    );
  });

  it('refuses too many entries', () => {
    const many = pkg(
      {},
      Array.from({ length: 30 }, (_, i) => ({ name: `x/${i}.txt`, data: 'x' })),
    );
    expect(refusal(() => readPackage(many, ofdLimits({ maxEntries: 20 }))).message).toMatch(/more than 20 entries/);
  });

  it('catches a directory that understates an entry’s size: the stream is cut and its CRC-32 no longer matches', () => {
    const lying = pkg({}, [{ name: 'Doc_0/Res/lie.bin', data: Buffer.alloc(100_000, 7), declared: 1000 }]);
    // Python itself refuses the altered entry: the independent reader agrees the package is damaged.
    expect(() => pythonUnzip(tmp, lying)).toThrow();
    const error = refusal(() => readPackage(lying));
    expect(error.code).toBe('ofd_not_zip');
    expect(error.message).toMatch(/lie\.bin does not match its CRC-32/);
  });

  it.each([
    ['../evil.xml', /has a "\." or "\.\." segment/],
    ['Doc_0/../../evil.xml', /has a "\." or "\.\." segment/],
    ['/etc/passwd', /is an absolute path/],
    ['Doc_0\\evil.xml', /uses a backslash/],
    ['C:/evil.xml', /names a drive/],
  ])('refuses the zip entry %s', (name, message) => {
    const error = refusal(() => readPackage(pkg({}, [{ name, data: 'x' }])));
    expect(error.code).toBe('ofd_path_invalid');
    expect(error.message).toMatch(message);
  });

  it.each([
    ['../../outside/Document.xml', /climbs out of the package/],
    ['Doc_0\\Document.xml', /uses a backslash/],
    ['file:///etc/passwd', /names a drive or a URL scheme/],
  ])('refuses the reference %s in OFD.xml', (root, message) => {
    const error = refusal(() => openOfd(pkg({ 'OFD.xml': OFD_XML(root) })));
    expect(error.code).toBe('ofd_path_invalid');
    expect(error.message).toMatch(message);
    expect(error.path).toBe('OFD.xml');
  });

  it('refuses a billion-laughs document before expanding anything', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer><ofd:TextObject Boundary="0 0 1 1" Font="1" Size="1"><ofd:TextCode X="0" Y="1">&lol3;</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>`;
    const file = openOfd(pkg({ 'Doc_0/Pages/Page_0/Content.xml': laughs }));
    const error = refusal(() => file.page(0));
    expect(error.code).toBe('ofd_xml_invalid');
    expect(error.message).toBe(
      'Doc_0/Pages/Page_0/Content.xml: declares a DOCTYPE or entities, which OFD files never need; refused',
    );
  });

  it('refuses an external entity (XXE) in OFD.xml', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE ofd [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocRoot>&xxe;</ofd:DocRoot></ofd:DocBody></ofd:OFD>`;
    const error = refusal(() => openOfd(pkg({ 'OFD.xml': xxe })));
    expect(error.code).toBe('ofd_xml_invalid');
    expect(error.path).toBe('OFD.xml');
  });

  it('refuses elements nested deeper than the limit, malformed XML and XML that is not UTF-8', () => {
    const deep = PAGE('<ofd:PageBlock>'.repeat(200) + '</ofd:PageBlock>'.repeat(200));
    expect(refusal(() => openOfd(pkg({ 'Doc_0/Pages/Page_0/Content.xml': deep })).page(0)).message).toMatch(
      /nests elements more than 128 deep/,
    );
    expect(
      refusal(() => openOfd(pkg({ 'Doc_0/Document.xml': '<ofd:Document><ofd:Pages></ofd:Document>' }))).message,
    ).toMatch(/Doc_0\/Document\.xml: is not well-formed XML/);
    const gbk = Buffer.concat([
      Buffer.from('<?xml version="1.0"?><ofd:OFD Version="1.0">'),
      Buffer.from([0xc4, 0xe3]),
      Buffer.from('</ofd:OFD>'),
    ]);
    expect(refusal(() => openOfd(pkg({ 'OFD.xml': gbk }))).message).toMatch(/OFD\.xml: is not UTF-8/);
  });

  it('refuses an unknown OFD version and a DocType that is not OFD', () => {
    const v9 = refusal(() => openOfd(pkg({ 'OFD.xml': OFD_XML('Doc_0/Document.xml', '9.0') })));
    expect(v9.code).toBe('ofd_unsupported');
    expect(v9.message).toMatch(/OFD version "9\.0" is not one this reader knows/);
    const docType = OFD_XML().replace('DocType="OFD"', 'DocType="PDF"');
    expect(refusal(() => openOfd(pkg({ 'OFD.xml': docType }))).message).toMatch(/DocType "PDF" is not OFD/);
  });

  it('refuses a document whose page file is missing, naming the file that refers to it', () => {
    const file = openOfd(pkg({ 'Doc_0/Document.xml': DOCUMENT('Pages/Page_9/Content.xml') }));
    const error = refusal(() => file.page(0));
    expect(error.code).toBe('ofd_malformed');
    expect(error.message).toBe(
      'Doc_0/Document.xml: refers to /Doc_0/Pages/Page_9/Content.xml, which is not in the package',
    );
  });

  it('refuses numbers that are not numbers and bounds DeltaX repetition by the text', () => {
    const nan = PAGE(
      '<ofd:TextObject Boundary="0 0 NaN 1" Font="1" Size="1"><ofd:TextCode X="0" Y="1">字</ofd:TextCode></ofd:TextObject>',
    );
    expect(refusal(() => openOfd(pkg({ 'Doc_0/Pages/Page_0/Content.xml': nan })).page(0)).message).toMatch(
      /Boundary of TextObject is "NaN", not a number/,
    );
    const huge = PAGE(
      '<ofd:TextObject Boundary="0 0 10 10" Font="1" Size="1"><ofd:TextCode X="0" Y="1" DeltaX="g 1000000000 1">三个字</ofd:TextCode></ofd:TextObject>',
    );
    const object = openOfd(pkg({ 'Doc_0/Pages/Page_0/Content.xml': huge })).page(0).content.layers[0]!.objects[0]!;
    expect(object.kind === 'text' && object.codes[0]!.deltaX).toEqual([1, 1]);
  });

  it('refuses more graphic objects on a page than the limit', () => {
    const crowded = PAGE(
      '<ofd:PathObject Boundary="0 0 1 1"><ofd:AbbreviatedData>M 0 0 L 1 1</ofd:AbbreviatedData></ofd:PathObject>'.repeat(
        50,
      ),
    );
    const file = openOfd(pkg({ 'Doc_0/Pages/Page_0/Content.xml': crowded }), ofdLimits({ maxObjectsPerPage: 40 }));
    expect(refusal(() => file.page(0)).message).toMatch(/more than 40 graphic objects/);
  });

  it('refuses what is not a zip at all, and a zip without OFD.xml', () => {
    expect(refusal(() => readPackage(Buffer.from('%PDF-1.7 not an ofd'))).code).toBe('ofd_not_zip');
    const noRoot = pythonZip(tmp, { set: { 'readme.txt': 'hello' } });
    expect(refusal(() => openOfd(noRoot)).message).toMatch(/has no OFD\.xml at its root/);
  });

  it('reports a signature whose reference names a missing file, and one with an unknown check method', async () => {
    const original = fixture('SESV4SignDoc.ofd');
    const missing = pythonZip(tmp, { input: original, delete: ['Doc_0/PublicRes.xml'] });
    const [report] = (await verifyOfd(missing)).signatures;
    expect(report!.references.find((r) => r.path === 'Doc_0/PublicRes.xml')?.status).toBe('missing');
    expect(report!.problems).toContain(
      '/Doc_0/PublicRes.xml is protected by the signature but no longer in the package',
    );

    const files = pythonUnzip(tmp, original);
    const sigXml = files
      .get('Doc_0/Signs/Sign_0/Signature.xml')!
      .toString()
      .replace('CheckMethod="SM3"', 'CheckMethod="MD5"');
    const md5 = pythonZip(tmp, { input: original, set: { 'Doc_0/Signs/Sign_0/Signature.xml': sigXml } });
    const [md5Report] = (await verifyOfd(md5)).signatures;
    expect(md5Report!.valid).toBe(false);
    expect(md5Report!.problems).toContain('the check method MD5 is not one this verifier knows (SM3, SHA-256)');
  });
});
