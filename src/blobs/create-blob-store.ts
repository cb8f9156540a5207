import type { Config } from '../server/config.js';
import type { BlobStore } from './blob-store.js';
import { DirBlobStore } from './dir-blob-store.js';

/** The store chosen by `SIGIL_BLOB_STORE` (validated at start-up: an unknown value never gets here). */
export function createBlobStore(config: Pick<Config, 'blobs'>): BlobStore {
  switch (config.blobs.store) {
    case 'dir':
      return new DirBlobStore({ root: config.blobs.dir, maxBytes: config.blobs.maxBytes });
  }
}
