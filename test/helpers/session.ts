import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createToken } from '../../src/app/team/tokens.js';
import { setPassword } from '../../src/app/team/sessions.js';
import { newId } from '../../src/core/ids.js';
import { sharedStore } from './store.js';

/** The host every session test talks to, and the Origin its own pages send. */
export const HOST = 'inbox.test';
export const ORIGIN = `http://${HOST}`;

let addressCounter = 0;
/** A client address of its own per caller, so the per-address sign-in limit of one test never reaches another. */
export const freshAddress = () => `10.${process.pid % 250}.${Math.floor(++addressCounter / 250) % 250}.${addressCounter % 250}`;

export const uniqueEmail = (label = 'member') => `${label}-${newId()}@example.com`;

/** Adds a member with a password to a team (and a token of theirs). */
export async function addMember(teamId: string, role: 'admin' | 'user', password = 'correct horse battery') {
  const { db } = await sharedStore();
  const userId = newId();
  const memberId = newId();
  const email = uniqueEmail(role);
  await db.insertInto('users').values({ id: userId, email, name: `A ${role}`, image: null }).execute();
  await db.insertInto('members').values({ id: memberId, team_id: teamId, user_id: userId, role }).execute();
  await setPassword(db, userId, password, new Date());
  const { token } = await createToken(db, { teamId, memberId, name: role }, new Date());
  return { userId, memberId, email, password, token };
}

/** Sets the password of a team's owner and returns the owner's e-mail. */
export async function ownerCredentials(ownerMemberId: string, password = 'owner password 123') {
  const { db } = await sharedStore();
  const owner = await db
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email'])
    .where('m.id', '=', ownerMemberId)
    .executeTakeFirstOrThrow();
  await setPassword(db, owner.id, password, new Date());
  return { email: owner.email, password };
}

export interface Browser {
  cookie: string | undefined;
  /** a request as the page sends it: the session cookie, and the right Origin unless told otherwise */
  request(method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string | undefined>): Promise<LightMyRequestResponse>;
}

/** A browser-like client of one address that keeps the session cookie the server sets. */
export function browser(app: FastifyInstance): Browser {
  const remoteAddress = freshAddress();
  const client: Browser = {
    cookie: undefined,
    async request(method, url, body, headers = {}) {
      const all: Record<string, string> = { host: HOST, origin: ORIGIN };
      if (client.cookie) all.cookie = `inbox_session=${client.cookie}`;
      for (const [name, value] of Object.entries(headers)) {
        if (value === undefined) delete all[name];
        else all[name] = value;
      }
      const response = await app.inject({
        method,
        url,
        remoteAddress,
        headers: all,
        ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
      });
      const set = response.cookies.find((c) => c.name === 'inbox_session');
      if (set) client.cookie = set.value || undefined;
      return response;
    },
  };
  return client;
}
