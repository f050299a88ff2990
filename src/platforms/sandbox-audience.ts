import { hashOf } from './sandbox-people.js';

/**
 * Who follows a sandbox user and who liked its post when nobody said otherwise: drawn from the user's id, as its
 * name is (sandbox-people.ts), so a user has the same followers and likers in every run and on every machine.
 * Each follower and liker is a default sandbox user of its own, whose id is made of nine digits drawn from the
 * followed user's (or the post's) id and six of its rank: distinct within an audience, stable across runs.
 */

const MAX_SEEDED_FOLLOWERS = 60;
const MAX_SEEDED_LIKES = 30;

/** How many followers a sandbox user has unless its profile says otherwise (0 to 59). */
export const seededFollowerCount = (userId: string): number => hashOf(userId, 11) % MAX_SEEDED_FOLLOWERS;

/** How many people liked a sandbox post besides the sandbox's own likes of it (0 to 29). */
export const seededLikeCount = (postId: string): number => hashOf(postId, 12) % MAX_SEEDED_LIKES;

function memberId(ownerId: string, salt: number, rank: number): string {
  const prefix = 100_000_000 + (hashOf(ownerId, salt) % 900_000_000);
  return `${prefix}${String(rank).padStart(6, '0')}`;
}

/** The id of a sandbox user's follower of this rank (0 is the first). */
export const sandboxFollowerId = (userId: string, rank: number): string => memberId(userId, 13, rank);

/** The id of a sandbox post's seeded liker of this rank (0 is the first). */
export const sandboxLikerId = (postId: string, rank: number): string => memberId(postId, 14, rank);
