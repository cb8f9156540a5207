// Bench settings read from the environment: a value out of range is named and replaced by the default.

/** An integer setting from `min` to `max`; anything else warns and falls back. */
export function boundedInt(raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  process.stderr.write(`bench: expected an integer from ${min} to ${max}, not ${raw}; using ${fallback}\n`);
  return fallback;
}

/** A number setting from `min` to `max`; anything else warns and falls back. */
export function boundedNumber(raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= min && n <= max) return n;
  process.stderr.write(`bench: expected a number from ${min} to ${max}, not ${raw}; using ${fallback}\n`);
  return fallback;
}
