// `sigil seal image`: draw a standard seal impression to a PNG or SVG file, offline.
// Exit statuses as everywhere: 0 success, 2 bad input or usage.
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { AppError } from '../server/errors.js';
import { DEFAULT_PX_PER_MM, PX_PER_MM_LIMITS, renderSealPng, renderSealSvg } from '../seal-image/render.js';
import { DEFAULT_SIZE_MM, SEAL_SHAPES, type SealShape } from '../seal-image/seal-svg.js';
import { checkSealImageSpec } from '../seal-image/spec.js';
import { registerEslCommands } from './seal-esl.js';

function shape(value: string): SealShape {
  if (!(SEAL_SHAPES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${SEAL_SHAPES.join(', ')}`);
  return value as SealShape;
}

function number(label: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`must be ${label} from ${min} to ${max}`);
    return n;
  };
}

function output(value: string): string {
  const ext = extname(value).toLowerCase();
  if (ext !== '.png' && ext !== '.svg') throw new InvalidArgumentError('must end in .png or .svg');
  return value;
}

interface SealImageOptions {
  shape: SealShape;
  company?: string;
  type?: string;
  code?: string;
  name?: string;
  sizeMm?: number;
  color?: string;
  pxPerMm: number;
  star: boolean;
  out: string;
}

/** Adds `seal image` and `seal esl` to the program. */
export function registerSealCommands(program: Command): void {
  const seal = program.command('seal').description('seal tools');
  seal
    .command('image')
    .description(
      'draw a seal impression (round company seal, oval seal, square personal seal) to a transparent PNG or an SVG',
    )
    .requiredOption('--shape <shape>', `${SEAL_SHAPES.join(', ')}`, shape)
    .option('--company <text>', 'round and oval: company name along the upper arc')
    .option('--type <text>', 'round and oval: seal type written horizontally, e.g. 合同专用章')
    .option('--code <text>', 'round: code along the lower arc (防伪码); oval: the middle line (taxpayer number)')
    .option('--name <text>', "square: the person's name; four characters (张三之印) are set 2×2")
    .option(
      '--size-mm <n>',
      `diameter (round, ${DEFAULT_SIZE_MM.round}), width (oval, ${DEFAULT_SIZE_MM.oval}) or side (square, ${DEFAULT_SIZE_MM.square}) in millimetres`,
      number('millimetres', 10, 80),
    )
    .option('--color <#rrggbb>', 'ink colour (default #d32f2f)')
    .option(
      '--px-per-mm <n>',
      'PNG resolution in pixels per millimetre (12 ≈ 305 dpi)',
      number('pixels per millimetre', PX_PER_MM_LIMITS.min, PX_PER_MM_LIMITS.max),
      DEFAULT_PX_PER_MM,
    )
    .option('--no-star', 'round: leave out the five-pointed star')
    .requiredOption(
      '--out <file>',
      'where to write the image: .png (transparent) or .svg (characters as outlines)',
      output,
    )
    .action(async (options: SealImageOptions) => {
      const spec = checkSealImageSpec(
        {
          shape: options.shape,
          company: options.company,
          type: options.type,
          code: options.code,
          name: options.name,
          sizeMm: options.sizeMm,
          color: options.color,
          ...(options.star ? {} : { star: false }),
        },
        '--',
      );
      const svg = extname(options.out).toLowerCase() === '.svg';
      let bytes: Buffer | string;
      let summary: string;
      if (svg) {
        const drawn = renderSealSvg(spec);
        bytes = drawn.svg;
        summary = `${drawn.widthMm}×${drawn.heightMm} mm, SVG`;
      } else {
        const drawn = await renderSealPng(spec, options.pxPerMm);
        bytes = drawn.png;
        summary = `${drawn.widthMm}×${drawn.heightMm} mm, ${drawn.width}×${drawn.height} px PNG`;
      }
      try {
        await writeFile(options.out, bytes);
      } catch (error) {
        throw new AppError(
          'validation_failed',
          `Cannot write ${options.out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
        );
      }
      process.stdout.write(`wrote ${options.out}: ${spec.shape} seal, ${summary}\n`);
    });
  registerEslCommands(seal);
}
