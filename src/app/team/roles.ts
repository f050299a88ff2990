import { forbidden } from '../../core/errors.js';
import type { Actor } from '../context.js';

/** Members, invites, tokens, webhooks and account links are managed by owners and admins only. */
export function assertCanManage(actor: Actor, what: string): void {
  if (actor.role === 'user') throw forbidden(`Only owners and admins can manage ${what}`);
}
