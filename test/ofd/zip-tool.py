# Builds and alters zip packages for the OFD tests with Python's zipfile, a zip implementation
# independent of the fflate code under test. Reads a JSON job on stdin:
#   {"input": path | null, "output": path,
#    "set": {name: base64 bytes}, "delete": [name], "flip": {name: offset},
#    "raw": [{"name": str, "data": base64, "declared": int | null, "level": int}]}
# "flip" XORs one byte of an entry's content; "raw" writes an entry as given (a name with "..",
# a backslash, a drive), and with "declared" patches the uncompressed size in both headers after
# writing, so the directory lies about it.
import base64, json, struct, sys, zipfile, zlib

job = json.load(sys.stdin)
entries = []
if job.get("input"):
    with zipfile.ZipFile(job["input"]) as z:
        for info in z.infolist():
            entries.append([info.filename, z.read(info.filename)])
deleted = set(job.get("delete", []))
entries = [e for e in entries if e[0] not in deleted]
for name, data in job.get("set", {}).items():
    data = base64.b64decode(data)
    for e in entries:
        if e[0] == name:
            e[1] = data
            break
    else:
        entries.append([name, data])
for name, offset in job.get("flip", {}).items():
    for e in entries:
        if e[0] == name:
            b = bytearray(e[1]); b[offset] ^= 0x01; e[1] = bytes(b)
with zipfile.ZipFile(job["output"], "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in entries:
        z.writestr(name, data)
    for raw in job.get("raw", []):
        info = zipfile.ZipInfo(raw["name"])
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, base64.b64decode(raw["data"]), compresslevel=raw.get("level", 9))
patches = [r for r in job.get("raw", []) if r.get("declared") is not None]
if patches:
    buf = bytearray(open(job["output"], "rb").read())
    for r in patches:
        name = r["name"].encode()
        # Central directory header: signature PK\1\2, uncompressed size at +24, name at +46.
        i = 0
        while True:
            i = buf.find(b"PK\x01\x02", i)
            if i < 0: break
            n = struct.unpack_from("<H", buf, i + 28)[0]
            if bytes(buf[i + 46:i + 46 + n]) == name:
                local = struct.unpack_from("<I", buf, i + 42)[0]
                struct.pack_into("<I", buf, i + 24, r["declared"])
                struct.pack_into("<I", buf, local + 22, r["declared"])
            i += 4
    open(job["output"], "wb").write(buf)
