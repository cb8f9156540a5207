import { z } from 'zod';

/** Enough for any contract's pages, without a book's thousands in one answer. */
export const PAGE_BOXES_LISTED = 500;

const pageBox = z.object({
  box: z
    .tuple([z.number(), z.number(), z.number(), z.number()])
    .describe(
      "the visible page box (CropBox within MediaBox) as [x, y, width, height] in points: the space of a placement's rect",
    ),
  rotate: z.number().describe('/Rotate of the page in degrees (0, 90, 180, 270)'),
});

export const documentPagesSchema = z.object({
  sha256: z.string(),
  format: z.enum(['pdf', 'ofd']).describe("the document's format; an OFD's millimetres are given as points"),
  count: z.number().describe('the number of pages'),
  pages: z.array(pageBox).describe(`the first ${PAGE_BOXES_LISTED} pages (all of a shorter document)`),
  last: pageBox.describe('the last page'),
});
