import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { okSchema, sendJsonText, type RoutesPlugin } from '../../server/schemas.js';
import { describePermissions, getGroupOverview } from '../groups/index.js';
import { findCompany, findCompanyPaths } from '../companies/index.js';
import { findUserRoles } from './user.repository.js';
import {
  addPostBody,
  createServiceAccountBody,
  createUserBody,
  meSchema,
  postParams,
  resetPasswordBody,
  statusBody,
  updateMeBody,
  updateUserBody,
  userDetailSchema,
  userListQuery,
  userParams,
  userSchema,
} from './user.schema.js';
import * as service from './user.service.js';

const tags = ['organisation'];

export const userRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/me', {
    config: { beforePasswordChange: true },
    schema: { tags: ['me'], summary: 'Who I am: profile, group, roles and permissions', response: { 200: meSchema } },
    handler: async (request) => {
      const actor = actorOf(request);
      const user = await service.getMe(ctx, actor);
      const [group, roles] = await Promise.all([
        getGroupOverview(ctx, actor.principal.groupId),
        findUserRoles(ctx.db, actor.principal.groupId, user.id),
      ]);
      const company = await findCompany(ctx.db, { groupId: actor.principal.groupId, id: user.companyId });
      const byPath = new Map(
        [
          ...(
            await findCompanyPaths(
              ctx.db,
              actor.principal.groupId,
              actor.principal.roles.map((r) => r.companyId),
            )
          ).entries(),
        ].map(([id, path]) => [path, id]),
      );
      return {
        user: service.presentUser(user, ctx.now()),
        group: { id: group.id, name: group.name, slug: group.slug },
        company: { id: user.companyId, name: company?.name ?? '' },
        roles,
        permissions: describePermissions(actor).map((p) => ({
          permission: p.permission,
          companyId: byPath.get(p.companyPath) ?? '',
        })),
        passwordChangeRequired: request.passwordChangeRequired,
      };
    },
  });

  app.patch('/me', {
    config: { beforePasswordChange: true },
    schema: { tags: ['me'], summary: 'Change my language or phone', body: updateMeBody, response: { 200: userSchema } },
    handler: async (request) =>
      service.presentUser(await service.updateMe(ctx, actorOf(request), request.body), ctx.now()),
  });

  app.get('/people', {
    schema: {
      tags: ['me'],
      summary:
        'Search active people in my company line (my company, those below and above it) to pick an approver or stand-in',
      querystring: z.strictObject({
        q: z.string().trim().min(1).max(100).optional(),
        limit: z.coerce.number().int().min(1).max(50).default(20),
      }),
      response: {
        200: z.object({
          items: z.array(
            z.object({ id: z.string(), name: z.string(), companyId: z.string(), companyName: z.string() }),
          ),
        }),
      },
    },
    handler: async (request) => ({ items: await service.searchPeople(ctx, actorOf(request), request.query) }),
  });

  app.get('/users', {
    schema: {
      tags,
      summary: 'Users you may see, by name',
      querystring: userListQuery,
      response: { 200: z.object({ items: z.array(userSchema), nextCursor: z.string().nullable() }) },
    },
    handler: async (request, reply) =>
      sendJsonText(reply, await service.listUsers(ctx, actorOf(request), request.query)),
  });

  app.get('/users/:userId', {
    schema: { tags, summary: 'One user with posts and roles', params: userParams, response: { 200: userDetailSchema } },
    handler: async (request) => service.getUserDetail(ctx, actorOf(request), request.params.userId),
  });

  app.post('/users', {
    schema: { tags, summary: 'Create a user', body: createUserBody, response: { 201: userDetailSchema } },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createUser(ctx, actorOf(request), request.body)),
  });

  app.post('/service-accounts', {
    schema: {
      tags,
      summary:
        'Create a service account: a user no person signs in as, for an integration to hold roles and seal grants through its API keys',
      body: createServiceAccountBody,
      response: { 201: userDetailSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createServiceAccount(ctx, actorOf(request), request.body)),
  });

  app.patch('/users/:userId', {
    schema: {
      tags,
      summary: 'Change a user (name, company, department, phone, language)',
      params: userParams,
      body: updateUserBody,
      response: { 200: userDetailSchema },
    },
    handler: async (request) => service.updateUser(ctx, actorOf(request), request.params.userId, request.body),
  });

  app.post('/users/:userId/status', {
    schema: {
      tags,
      summary: 'Suspend, reactivate, or mark resigned (ends their sessions at once)',
      params: userParams,
      body: statusBody,
      response: { 200: userDetailSchema },
    },
    handler: async (request) => service.changeUserStatus(ctx, actorOf(request), request.params.userId, request.body),
  });

  app.post('/users/:userId/password', {
    schema: {
      tags,
      summary: "Set a user's password (ends their sessions)",
      params: userParams,
      body: resetPasswordBody,
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.resetPassword(ctx, actorOf(request), request.params.userId, request.body.password);
      return { ok: true as const };
    },
  });

  app.post('/users/:userId/unlock', {
    schema: { tags, summary: 'Lift a sign-in lock-out', params: userParams, response: { 200: userDetailSchema } },
    handler: async (request) => service.unlockUser(ctx, actorOf(request), request.params.userId),
  });

  app.post('/users/:userId/posts', {
    schema: {
      tags,
      summary: 'Add an additional post (another company or department)',
      params: userParams,
      body: addPostBody,
      response: { 201: userDetailSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.addPost(ctx, actorOf(request), request.params.userId, request.body)),
  });

  app.delete('/users/:userId/posts/:postId', {
    schema: { tags, summary: 'Remove an additional post', params: postParams, response: { 200: userDetailSchema } },
    handler: async (request) => service.removePost(ctx, actorOf(request), request.params.userId, request.params.postId),
  });
};
