import { z } from 'zod';
import { body } from '../../server/schemas.js';
import { DEFAULT_PX_PER_MM, PX_PER_MM_LIMITS } from '../../seal-image/render.js';
import { SEAL_IMAGE_TYPES } from '../../seal-image/inspect.js';
import { SEAL_SHAPES, SIZE_LIMITS_MM, TEXT_LIMITS } from '../../seal-image/seal-svg.js';
import { COLOR_PATTERN } from '../../seal-image/spec.js';

/** Pixels per millimetre of a preview unless asked otherwise: small enough to answer every keystroke. */
export const PREVIEW_PX_PER_MM = 8;

// Lengths in characters are checked (with the seal font's coverage) by checkSealImageSpec;
// the caps here only keep absurd input out before that.
const text = (limit: number, what: string) =>
  z
    .string()
    .max(limit * 4, { message: `must be at most ${limit} Chinese characters` })
    .describe(`${what} At most ${limit} Chinese characters wide (a letter or digit counts 0.6).`);

const specFields = {
  shape: z
    .enum(SEAL_SHAPES)
    .describe(
      'round: company seal (公章, 合同专用章…); oval: e.g. 发票专用章; square: personal or legal-representative seal',
    ),
  company: text(TEXT_LIMITS.company, 'Round and oval: the company name, along the upper arc.').optional(),
  type: text(
    TEXT_LIMITS.type,
    'Round and oval: the seal type, written horizontally (合同专用章); none on a 公章.',
  ).optional(),
  code: text(
    TEXT_LIMITS.code,
    'Round: along the lower arc (防伪码 / 下弦文); oval: the middle line (a taxpayer number).',
  ).optional(),
  name: text(
    TEXT_LIMITS.name,
    "Square: the person's name; four characters (张三之印) are set 2×2, read from the right.",
  ).optional(),
  color: z
    .string()
    .regex(COLOR_PATTERN, { message: 'must be a colour as #rrggbb, e.g. #d32f2f' })
    .optional()
    .describe('Ink colour; seal red #d32f2f by default'),
  sizeMm: z
    .number()
    .min(SIZE_LIMITS_MM.min, { message: `must be at least ${SIZE_LIMITS_MM.min} mm` })
    .max(SIZE_LIMITS_MM.max, { message: `must be at most ${SIZE_LIMITS_MM.max} mm` })
    .optional()
    .describe(
      'Round: diameter (40 by default); oval: width (45; the height is two thirds); square: side (20). Millimetres.',
    ),
  star: z.boolean().optional().describe('Round only: the five-pointed star (drawn unless false)'),
  pxPerMm: z
    .number()
    .min(PX_PER_MM_LIMITS.min, { message: `must be at least ${PX_PER_MM_LIMITS.min}` })
    .max(PX_PER_MM_LIMITS.max, { message: `must be at most ${PX_PER_MM_LIMITS.max}` })
    .optional()
    .describe(
      `PNG resolution in pixels per millimetre (${PREVIEW_PX_PER_MM} for a preview, ${DEFAULT_PX_PER_MM} ≈ 305 dpi when stored)`,
    ),
  format: z
    .enum(['png', 'svg'])
    .default('png')
    .describe('png: transparent PNG; svg: self-contained SVG with every character as an outline, sized in millimetres'),
};

export const sealImageSpecBody = body(specFields);
export type SealImageRequest = z.infer<typeof sealImageSpecBody>;

export const sealImageSchema = z
  .object({
    sha256: z.string().describe('Reference this in a seal production or change application'),
    mediaType: z.enum(SEAL_IMAGE_TYPES),
    size: z.number().describe('Bytes'),
    width: z.number().describe('Pixels (PNG) or CSS pixels of the SVG'),
    height: z.number(),
  })
  .meta({ id: 'SealImage' });

export const sealImageParams = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a SHA-256 in lower-case hex (64 characters)' }),
});

const uploadJson = body({
  dataBase64: z.base64({ message: 'must be the file in base64' }),
  mediaType: z.enum(SEAL_IMAGE_TYPES, { message: 'must be image/png or image/svg+xml' }),
  fileName: z.string().trim().max(200).optional(),
});

const { $schema: _ignored, ...uploadJsonSchema } = z.toJSONSchema(uploadJson, { io: 'input' });

/**
 * An upload is either the image itself as the request body (`Content-Type: image/png` or
 * `image/svg+xml`), which arrives here as a Buffer, or JSON `{dataBase64, mediaType}`. One
 * schema for both, so a bad JSON field is named like anywhere else (a zod union would only
 * say "Invalid input").
 */
export const sealImageUploadBody = z
  .unknown()
  .transform((value, ctx) => {
    if (Buffer.isBuffer(value))
      return { bytes: value, claimedType: undefined as string | undefined, fileName: undefined as string | undefined };
    const parsed = uploadJson.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
      return z.NEVER;
    }
    return {
      bytes: Buffer.from(parsed.data.dataBase64, 'base64'),
      claimedType: parsed.data.mediaType as string | undefined,
      fileName: parsed.data.fileName,
    };
  })
  .meta({
    description: 'The image as the body (image/png or image/svg+xml), or JSON {dataBase64, mediaType}',
    anyOf: [{ type: 'string', format: 'binary' }, uploadJsonSchema],
  });

export const binaryImage = z.string().meta({ format: 'binary' });
