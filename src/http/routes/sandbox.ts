import type { AppContext } from '../../app/context.js';
import { deliverSandboxDm, setSandboxProfile } from '../../app/inbox/sandbox.js';
import type { Api } from '../api.js';
import { errorResponses } from '../schemas/common.js';
import { MessageSchema } from '../schemas/messages.js';
import { SandboxInboundBody, SandboxProfileBody, SandboxProfileParams, SandboxProfileSchema } from '../schemas/sandbox.js';

const tags = ['Sandbox'];

/** The simulated X: shape its users and make them DM our sandbox accounts. */
export function sandboxRoutes(api: Api, ctx: AppContext): void {
  api.put(
    '/sandbox/profiles/:platformId',
    {
      schema: {
        tags,
        summary: "Set a sandbox user's profile (omitted fields take their defaults)",
        params: SandboxProfileParams,
        body: SandboxProfileBody,
        response: { 200: SandboxProfileSchema, ...errorResponses },
      },
    },
    async (req) => setSandboxProfile(ctx, req.params.platformId, req.body),
  );
  api.post(
    '/sandbox/inbound',
    {
      schema: {
        tags,
        summary: 'Deliver a DM from a sandbox user to a sandbox account, as X would',
        body: SandboxInboundBody,
        response: { 200: MessageSchema, ...errorResponses },
      },
    },
    async (req) => deliverSandboxDm(ctx, req.actor.teamId, req.body),
  );
}
