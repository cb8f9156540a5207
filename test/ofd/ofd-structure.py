# Checks an OFD package against the structural rules of GB/T 33190-2016 with Python's own zip and
# XML readers (not the code under test), for the writer's tests. Prints JSON:
#   {"problems": [...], "pages": n, "ids": n, "maxUnitId": n, "text": ["page 1 text", ...]}
# Rules: OFD.xml at the root with Version and DocType="OFD"; DocRoot, PublicRes, every page's
# BaseLoc and every FontFile present; IDs unique across the document's files (§7.5);
# MaxUnitID not below any ID; every Font a TextObject names is declared; every object's Boundary
# inside its page's PhysicalBox; DeltaX (g-abbreviations expanded) one shorter than its text.
import json, posixpath, sys, zipfile
import xml.etree.ElementTree as ET

NS = "{http://www.ofdspec.org/2016}"
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
problems = []
def xml(path):
    if path not in names:
        problems.append("missing " + path); return None
    return ET.fromstring(z.read(path))
def resolve(ref, base):
    return ref.lstrip("/") if ref.startswith("/") else posixpath.normpath(posixpath.join(base, ref))
def deltas(value):
    out, t = [], (value or "").split()
    i = 0
    while i < len(t):
        if t[i] == "g":
            out += [float(t[i + 2])] * int(t[i + 1]); i += 3
        else:
            out.append(float(t[i])); i += 1
    return out

ofd = xml("OFD.xml")
if ofd.tag != NS + "OFD": problems.append("root of OFD.xml is " + ofd.tag)
if ofd.get("DocType") != "OFD" or not ofd.get("Version"): problems.append("OFD.xml lacks Version or DocType=OFD")
doc_path = resolve(ofd.find(f"{NS}DocBody/{NS}DocRoot").text, "")
doc = xml(doc_path)
base = posixpath.dirname(doc_path)
ids = []
def collect(root):
    for e in root.iter():
        if e.get("ID") is not None: ids.append(e.get("ID"))
collect(doc)
max_unit = int(doc.find(f"{NS}CommonData/{NS}MaxUnitID").text)
box = [float(v) for v in doc.find(f"{NS}CommonData/{NS}PageArea/{NS}PhysicalBox").text.split()]
fonts = set()
for res in doc.findall(f"{NS}CommonData/{NS}PublicRes"):
    res_path = resolve(res.text, base)
    r = xml(res_path)
    if r is None: continue
    collect(r)
    res_base = resolve(r.get("BaseLoc", "."), posixpath.dirname(res_path))
    for f in r.iter(NS + "Font"):
        fonts.add(f.get("ID"))
        if not f.get("FontName"): problems.append("font without FontName")
        ff = f.find(NS + "FontFile")
        if ff is not None and resolve(ff.text, res_base) not in names: problems.append("missing font file " + ff.text)
texts = []
pages = doc.findall(f"{NS}Pages/{NS}Page")
for p in pages:
    page = xml(resolve(p.get("BaseLoc"), base))
    if page is None: continue
    collect(page)
    lines = []
    for o in page.iter():
        if o.tag not in (NS + "TextObject", NS + "PathObject", NS + "ImageObject"): continue
        x, y, w, h = [float(v) for v in o.get("Boundary").split()]
        if x < box[0] - 1e-6 or y < box[1] - 1e-6 or x + w > box[0] + box[2] + 1e-6 or y + h > box[1] + box[3] + 1e-6:
            problems.append(f"object {o.get('ID')} lies outside the page: {o.get('Boundary')}")
        if o.tag == NS + "TextObject":
            if o.get("Font") not in fonts: problems.append(f"object {o.get('ID')} names an undeclared font {o.get('Font')}")
            for code in o.findall(NS + "TextCode"):
                if code.get("DeltaX") is not None and len(deltas(code.get("DeltaX"))) != len(code.text) - 1:
                    problems.append(f"object {o.get('ID')}: DeltaX has {len(deltas(code.get('DeltaX')))} values for {len(code.text)} characters")
                lines.append(code.text)
    texts.append("\n".join(lines))
if len(ids) != len(set(ids)): problems.append("IDs are not unique: " + str(sorted(i for i in set(ids) if ids.count(i) > 1)[:5]))
if ids and max(int(i) for i in ids) > max_unit: problems.append(f"MaxUnitID {max_unit} is below the largest ID {max(int(i) for i in ids)}")
print(json.dumps({"problems": problems, "pages": len(pages), "ids": len(ids), "maxUnitId": max_unit, "text": texts}, ensure_ascii=False))
