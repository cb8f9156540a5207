// The memory outside the database: every server appends the checkpoints it signs or sees to a
// file per group in its data directory (SIGIL_AUDIT_DIR), one JSON line per checkpoint
// (`{"note": "<signed note>"}`), never rewriting a line. Someone who can change the database but
// not this directory cannot make a server forget how long a log was.
import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CheckpointFormatError, parseCheckpoint, type ParsedCheckpoint } from './checkpoint.note.js';

export const checkpointFileOf = (dir: string, groupId: string) => join(dir, `${groupId}.checkpoints.jsonl`);

/** A line of the file, read back: the checkpoint, or why the line is not one. */
export type FileEntry = { line: number; checkpoint: ParsedCheckpoint } | { line: number; error: string };

function readLine(text: string, line: number): FileEntry {
  try {
    const value = JSON.parse(text) as { note?: unknown };
    if (typeof value.note !== 'string') return { line, error: 'the line has no note' };
    return { line, checkpoint: parseCheckpoint(value.note) };
  } catch (error) {
    return { line, error: error instanceof CheckpointFormatError ? error.message : 'the line is not JSON' };
  }
}

/** Appends a checkpoint and waits until it is on disk. */
export async function appendCheckpointFile(dir: string, groupId: string, note: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const handle = await open(checkpointFileOf(dir, groupId), 'a', 0o600);
  try {
    // One write of a whole line with O_APPEND: lines of two writers never interleave.
    await handle.write(`${JSON.stringify({ note })}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Every line of the group's file, in order (none when there is no file). */
export async function readCheckpointFile(dir: string, groupId: string): Promise<FileEntry[]> {
  const file = checkpointFileOf(dir, groupId);
  if (!(await exists(file))) return [];
  const entries: FileEntry[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  for await (const text of lines) {
    number += 1;
    if (text.length > 0) entries.push(readLine(text, number));
  }
  return entries;
}

const TAIL_BYTES = 64 * 1024;
const tails = new Map<string, { size: number; mtimeMs: number; entry: FileEntry | undefined }>();

/** The last line of the group's file (read from its tail, and remembered until the file changes). */
export async function readLatestCheckpointFile(dir: string, groupId: string): Promise<FileEntry | undefined> {
  const file = checkpointFileOf(dir, groupId);
  const info = await stat(file).catch(() => undefined);
  if (!info) return undefined;
  const cached = tails.get(file);
  if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs) return cached.entry;
  const length = Math.min(info.size, TAIL_BYTES);
  const handle = await open(file, 'r');
  let text: string;
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, info.size - length);
    text = buffer.toString('utf8');
  } finally {
    await handle.close();
  }
  const lines = text.split('\n').filter((l) => l.length > 0);
  const last = lines.at(-1);
  // A line longer than the tail was cut: it is read as the corrupt line it must be.
  const entry = last === undefined ? undefined : readLine(last, 0);
  tails.set(file, { size: info.size, mtimeMs: info.mtimeMs, entry });
  return entry;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
