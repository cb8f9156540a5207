import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { actorOf } from '../../server/plugins/auth.js';
import { sendText, type RoutesPlugin } from '../../server/schemas.js';
import { usageQuery } from './device.schema.js';
import { reportCsv, reportXlsx } from './usage-report.export.js';
import { renderUsageReportPdf } from './usage-report.pdf.js';
import {
  correctionBody,
  decisionBody,
  REGISTER_MAX_BYTES,
  registerCheckQuery,
  registerCheckSchema,
  reportQuery,
  reportSchema,
  reviewBody,
  reviewDetailSchema,
  reviewItemParams,
  reviewListQuery,
  reviewParams,
  reviewSchema,
  usageRecordParams,
  usageRecordSchema,
} from './usage.schema.js';
import * as service from './usage.service.js';

const tags = ['devices'];

/** Answers with a file's bytes instead of the route's JSON. */
function sendFile(reply: FastifyReply, file: { type: string; filename: string; bytes: Buffer }): FastifyReply {
  return reply
    .type(file.type)
    .header('content-disposition', `attachment; filename="${file.filename}"`)
    .header('cache-control', 'no-store')
    .send(file.bytes);
}

/** Usage records (用印记录), their corrections, reports, sampling reviews and register cross-checks. */
export const usageRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/seal-usage', {
    schema: {
      tags,
      summary:
        'Usage records (用印记录): electronic signatures and physical stamps side by side, by seal, company, person and time, each with its corrections',
      querystring: usageQuery,
      response: { 200: z.object({ items: z.array(usageRecordSchema) }) },
    },
    handler: async (request) => service.listUsage(ctx, actorOf(request), request.query),
  });

  app.get('/seal-usage/reports', {
    schema: {
      tags,
      summary:
        'A weekly or monthly usage report (用印报告) by seal, company, person and day, electronic and physical side by side; JSON, CSV, XLSX or PDF with charts',
      querystring: reportQuery,
      response: { 200: reportSchema.describe('format=json; the other formats answer with the file') },
    },
    handler: async (request, reply) => {
      const { format, ...query } = request.query;
      const report = await service.usageReport(ctx, actorOf(request), query);
      const name = `seal-usage-${report.period}-${report.from}`;
      if (format === 'csv')
        return sendText(reply, { type: 'text/csv; charset=utf-8', filename: `${name}.csv`, body: reportCsv(report) });
      if (format === 'xlsx')
        return sendFile(reply, {
          type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          filename: `${name}.xlsx`,
          bytes: await reportXlsx(report),
        });
      if (format === 'pdf')
        return sendFile(reply, {
          type: 'application/pdf',
          filename: `${name}.pdf`,
          bytes: await renderUsageReportPdf(report),
        });
      return report;
    },
  });

  app.get('/seal-usage/records/:recordId', {
    schema: {
      tags,
      summary: 'One usage record with the corrections appended to it',
      params: usageRecordParams,
      response: { 200: usageRecordSchema },
    },
    handler: async (request) => service.getUsageRecord(ctx, actorOf(request), request.params.recordId),
  });

  app.post('/seal-usage/records/:recordId/corrections', {
    schema: {
      tags,
      summary:
        'Append a correction to a usage record (what and why; who and when are recorded); the record itself never changes',
      params: usageRecordParams,
      body: correctionBody,
      response: { 201: usageRecordSchema },
    },
    handler: async (request, reply) =>
      reply
        .status(201)
        .send(await service.correctUsageRecord(ctx, actorOf(request), request.params.recordId, request.body)),
  });

  app.post('/seal-usage/reviews', {
    schema: {
      tags,
      summary:
        "Draw N usage records at random (a company's or a seal's, over a period) into a review for a reviewer; the reviewer's own records are never drawn",
      body: reviewBody,
      response: { 201: reviewDetailSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.drawReview(ctx, actorOf(request), request.body)),
  });

  app.get('/seal-usage/reviews', {
    schema: {
      tags,
      summary: 'Sampling reviews over companies whose seals you may read, and those given to you',
      querystring: reviewListQuery,
      response: { 200: z.object({ items: z.array(reviewSchema) }) },
    },
    handler: async (request) => service.listReviews(ctx, actorOf(request), request.query),
  });

  app.get('/seal-usage/reviews/:reviewId', {
    schema: {
      tags,
      summary: 'A sampling review with its drawn records and the verdicts so far',
      params: reviewParams,
      response: { 200: reviewDetailSchema },
    },
    handler: async (request) => service.getReview(ctx, actorOf(request), request.params.reviewId),
  });

  app.post('/seal-usage/reviews/:reviewId/items/:position/decision', {
    schema: {
      tags,
      summary: 'The reviewer confirms or flags one drawn record, once, with a comment (a flag needs one)',
      params: reviewItemParams,
      body: decisionBody,
      response: { 200: reviewDetailSchema },
    },
    handler: async (request) => service.decideReviewItem(ctx, actorOf(request), request.params, request.body),
  });

  // The register arrives as its own bytes (text/csv): a parser and a body limit of their own.
  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    upload.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    upload.post('/seal-usage/register-checks', {
      bodyLimit: REGISTER_MAX_BYTES,
      schema: {
        tags,
        summary:
          'Cross-check an imported register (CSV of contracts or payments: number, date, counterparty, amount; at most 1 MB and 5,000 rows) against usage records: rows with no record, records with no row',
        querystring: registerCheckQuery,
        response: { 200: registerCheckSchema },
      },
      handler: async (request) => service.checkRegister(ctx, actorOf(request), { ...request.query, csv: request.body }),
    });
  });
};
