import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobCorruptError, BlobMissingError } from '../src/blobs/blob-store.js';
import { assertGroupBlob, getGroupBlob, readGroupBlob, storeBlob } from '../src/blobs/blob.service.js';
import { DirBlobStore } from '../src/blobs/dir-blob-store.js';
import { assertMediaType, findSvgHazards, sniffMediaType } from '../src/blobs/sniff.js';
import { ConfigError, parseConfig } from '../src/server/config.js';
import { AppError } from '../src/server/errors.js';
import { buildGroup, createWorld, type GroupFixture, type World } from './support/world.js';

let world: World;
let groupA: GroupFixture;
let groupB: GroupFixture;
beforeAll(async () => {
  world = await createWorld({ SIGIL_BLOB_MAX_BYTES: '4096' });
  groupA = await buildGroup(world);
  groupB = await buildGroup(world);
});
afterAll(() => world.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);
const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1');

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('directory blob store', () => {
  it('stores bytes under their SHA-256, fanned out as ab/cd/<hash>, and reads them back', async () => {
    const bytes = Buffer.from('合同 contract v1');
    const { sha256: hash, size } = await world.ctx.blobs.put(bytes);
    expect(hash).toBe(sha256(bytes));
    expect(size).toBe(bytes.length);
    expect(existsSync(join(world.blobDir, hash.slice(0, 2), hash.slice(2, 4), hash))).toBe(true);
    expect(await world.ctx.blobs.get(hash)).toEqual(bytes);
    expect(await world.ctx.blobs.has(hash)).toBe(true);
    expect(await world.ctx.blobs.size(hash)).toBe(bytes.length);
    // Written through a temp file and renamed: nothing is left in tmp/.
    expect(readdirSync(join(world.blobDir, 'tmp'))).toEqual([]);
  });

  it('stores identical content once', async () => {
    const bytes = Buffer.from('the same photo');
    const [one, two] = await Promise.all([world.ctx.blobs.put(bytes), world.ctx.blobs.put(Buffer.from(bytes))]);
    expect(one).toEqual(two);
    expect(readdirSync(join(world.blobDir, one.sha256.slice(0, 2), one.sha256.slice(2, 4)))).toEqual([one.sha256]);
  });

  it('refuses a blob larger than the limit with blob_too_large', async () => {
    const error = await world.ctx.blobs.put(Buffer.alloc(4097)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'blob_too_large', status: 413 });
    expect((await world.ctx.blobs.put(Buffer.alloc(4096))).size).toBe(4096);
  });

  it('says a blob is missing, refuses a name that is not a hash, and detects altered bytes', async () => {
    const absent = sha256(Buffer.from('never stored'));
    expect(await world.ctx.blobs.has(absent)).toBe(false);
    await expect(world.ctx.blobs.get(absent)).rejects.toBeInstanceOf(BlobMissingError);
    await expect(world.ctx.blobs.get('../../../etc/passwd')).rejects.toThrow('not a SHA-256');
    await expect(world.ctx.blobs.has('AB'.repeat(32))).rejects.toThrow('not a SHA-256');

    const store = world.ctx.blobs as DirBlobStore;
    const { sha256: hash } = await store.put(Buffer.from('original terms'));
    writeFileSync(store.pathOf(hash), 'altered terms');
    await expect(store.get(hash)).rejects.toBeInstanceOf(BlobCorruptError);
  });

  it('makes its directories again when they were removed after its first write', async () => {
    const store = new DirBlobStore({ root: join(world.blobDir, 'kept-dirs'), maxBytes: 4096 });
    const first = await store.put(Buffer.from('first version'));
    // Removed by hand while the store runs: the directories it made (and remembers) are gone.
    rmSync(store.root, { recursive: true, force: true });
    const second = await store.put(Buffer.from('second version'));
    expect(await store.get(second.sha256)).toEqual(Buffer.from('second version'));
    expect(await store.has(first.sha256)).toBe(false);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });
});

describe('blob ownership by group', () => {
  it('lets a group read only the blobs it stored, answering another group as if the hash did not exist', async () => {
    const bytes = Buffer.from('group A seal image');
    const blob = await world.db.transaction().execute((trx) =>
      storeBlob(trx, world.ctx.blobs, {
        groupId: groupA.groupId,
        bytes,
        mediaType: 'image/png',
        originalName: '公章.png',
        createdBy: groupA.admin.id,
      }),
    );
    expect(blob).toMatchObject({
      groupId: groupA.groupId,
      sha256: sha256(bytes),
      size: bytes.length,
      mediaType: 'image/png',
      originalName: '公章.png',
      createdBy: groupA.admin.id,
    });
    expect(
      (await readGroupBlob(world.db, world.ctx.blobs, { groupId: groupA.groupId, sha256: blob.sha256 })).bytes,
    ).toEqual(bytes);

    const theirs = await getGroupBlob(world.db, { groupId: groupB.groupId, sha256: blob.sha256 }).catch(
      (e: unknown) => e,
    );
    const unknown = await getGroupBlob(world.db, {
      groupId: groupB.groupId,
      sha256: sha256(Buffer.from('nothing')),
    }).catch((e: unknown) => e);
    expect(theirs).toMatchObject({ code: 'blob_not_found', status: 404 });
    expect((theirs as AppError).message.replace(/[0-9a-f]{64}/, 'H')).toBe(
      (unknown as AppError).message.replace(/[0-9a-f]{64}/, 'H'),
    );
    await expect(assertGroupBlob(world.db, { groupId: groupB.groupId, sha256: blob.sha256 })).rejects.toMatchObject({
      code: 'blob_not_found',
    });
    await expect(getGroupBlob(world.db, { groupId: groupA.groupId, sha256: 'not-a-hash' })).rejects.toMatchObject({
      code: 'blob_not_found',
    });

    // The same bytes stored by the other group: its own record, one file.
    await world.db
      .transaction()
      .execute((trx) =>
        storeBlob(trx, world.ctx.blobs, { groupId: groupB.groupId, bytes, mediaType: 'image/png', createdBy: null }),
      );
    expect(await getGroupBlob(world.db, { groupId: groupB.groupId, sha256: blob.sha256 })).toMatchObject({
      groupId: groupB.groupId,
      originalName: null,
    });
    // Storing again keeps the first record.
    const again = await world.db.transaction().execute((trx) =>
      storeBlob(trx, world.ctx.blobs, {
        groupId: groupA.groupId,
        bytes,
        mediaType: 'image/png',
        originalName: 'other.png',
        createdBy: null,
      }),
    );
    expect(again.originalName).toBe('公章.png');
  });

  it('records no ownership when the transaction rolls back', async () => {
    const bytes = Buffer.from('rolled back upload');
    await expect(
      world.db.transaction().execute(async (trx) => {
        await storeBlob(trx, world.ctx.blobs, {
          groupId: groupA.groupId,
          bytes,
          mediaType: 'application/pdf',
          createdBy: null,
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await expect(getGroupBlob(world.db, { groupId: groupA.groupId, sha256: sha256(bytes) })).rejects.toMatchObject({
      code: 'blob_not_found',
    });
  });
});

describe('file type sniffing', () => {
  it('recognises PNG, JPEG, PDF and SVG by their content', () => {
    expect(sniffMediaType(PNG)).toBe('image/png');
    expect(sniffMediaType(JPEG)).toBe('image/jpeg');
    expect(sniffMediaType(PDF)).toBe('application/pdf');
    expect(sniffMediaType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('image/svg+xml');
    const prolog =
      '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- seal -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg width="10">';
    expect(sniffMediaType(Buffer.from(prolog))).toBe('image/svg+xml');
  });

  it('recognises nothing else: HTML, text, a PDF with bytes before its header, binary with an SVG tag', () => {
    expect(sniffMediaType(Buffer.from('<html><svg></svg></html>'))).toBeUndefined();
    expect(sniffMediaType(Buffer.from('hello'))).toBeUndefined();
    expect(sniffMediaType(Buffer.concat([Buffer.from('junk'), PDF]))).toBeUndefined();
    expect(sniffMediaType(Buffer.from('<svg\0>'))).toBeUndefined();
    expect(sniffMediaType(Buffer.alloc(0))).toBeUndefined();
    expect(sniffMediaType(PNG.subarray(0, 7))).toBeUndefined();
  });

  it('refuses a file that is not what it claims, or not of an accepted type, with file_type_mismatch', () => {
    expect(assertMediaType(JPEG, { accepted: ['image/png', 'image/jpeg'], claimed: 'image/jpg' })).toBe('image/jpeg');
    const lying = caught(() =>
      assertMediaType(PDF, { accepted: ['image/png'], claimed: 'image/png', field: 'body.image' }),
    );
    expect(lying).toMatchObject({
      code: 'file_type_mismatch',
      status: 422,
      message: 'The file claims to be image/png but its content is application/pdf.',
    });
    expect((lying as AppError).details.errors).toEqual([
      { field: 'body.image', message: 'The file claims to be image/png but its content is application/pdf.' },
    ]);
    const unaccepted = caught(() => assertMediaType(PDF, { accepted: ['image/png', 'image/jpeg'] }));
    expect(unaccepted).toMatchObject({
      code: 'file_type_mismatch',
      message: 'Only image/png, image/jpeg are accepted here; this file is application/pdf.',
    });
  });

  it('finds what makes an SVG unsafe to show', () => {
    expect(findSvgHazards(Buffer.from('<svg><circle r="5" fill="red"/><use href="#a"/></svg>'))).toEqual([]);
    expect(
      findSvgHazards(
        Buffer.from(
          '<svg onload="alert(1)"><script>x</script><a href="javascript:x"/><image href="https://evil.test/x.png"/></svg>',
        ),
      ),
    ).toEqual([
      'a <script> element',
      'an event-handler attribute (on…=)',
      'a javascript: URL',
      'a reference to another document',
    ]);
  });
});

describe('blob store configuration', () => {
  it('defaults to a directory under the data directory and refuses an unknown store', () => {
    expect(parseConfig({ SIGIL_DATA_DIR: '/srv/sigil' }).blobs).toEqual({
      store: 'dir',
      dir: '/srv/sigil/blobs',
      maxBytes: 50 * 1024 * 1024,
    });
    const error = caught(() => parseConfig({ SIGIL_BLOB_STORE: 's3' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'SIGIL_BLOB_STORE: must be dir (an S3-compatible store is planned)',
    ]);
  });
});
