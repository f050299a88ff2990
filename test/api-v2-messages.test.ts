import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XPoller } from '../src/app/inbox/x-inbound.js';
import { webhookSignature } from '../src/core/x-protocol.js';
import { buildServer } from '../src/http/server.js';
import type { ActivityMedia } from '../src/platforms/x.js';
import { accountActivityDm } from './fixtures/fake-x/server.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { coveredV2, expectV2, expectV2Error } from './helpers/contract-v2.js';
import { fails, inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';
import { linkX, X_CONSUMER_SECRET, xWorld, type XWorld } from './helpers/x.js';

/**
 * API v2's message changes (edit, unsend, history, reactions), attachments and typing, walked on the sandbox
 * (which can do everything) and on X through the fake X (which refuses what X API v2 cannot do); every answer,
 * success or error, is checked against the schema the vendor's document gives its operation for its status.
 */

const MESSAGE = '/messages/{messageId}';
const HISTORY = '/messages/{messageId}/history';
const REACTIONS = '/messages/{messageId}/reactions';
const ATTACHMENT = '/messages/{messageId}/attachments/{index}';
const TYPING = '/threads/{threadId}/typing';

const thumbsUp = encodeURIComponent('👍');

describe('API v2 message changes on the sandbox', () => {
  const clock = new TestClock();
  let app: FastifyInstance;
  let team: TeamClient;
  let account: { id: string; platformId: string };
  beforeAll(async () => {
    app = await buildServer(await testContext({ clock }));
    await app.ready();
    team = await newTeam(app);
    account = await linkAccount(team);
  });
  afterAll(() => app.close());

  /** A sandbox user writes to us (with an attachment, when given) and we answer through v1. */
  async function conversation(attachment?: Record<string, string>) {
    const person = randomPlatformId();
    const theirs = await ok(team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: person, content: 'Here is our deck', ...(attachment ? { attachment } : {}) }));
    clock.advance(1000);
    const ours = await ok(team.request('POST', `/api/v1/threads/${theirs.threadId}/messages`, { content: 'Thanks, reading it now' }));
    clock.advance(1000);
    return { person, threadId: theirs.threadId as string, theirs, ours };
  }

  it('edits our message, keeps its history, and refuses what the message does not allow', async () => {
    const { threadId, theirs, ours } = await conversation();
    const edited = await expectV2(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 200, { content: 'Thanks, reading it tonight' });
    expect(edited).toMatchObject({ id: ours.id, threadId, direction: 'outbound', content: 'Thanks, reading it tonight', editedAt: clock.now().toISOString(), deletedAt: null });
    clock.advance(1000);
    await expectV2(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 200, { content: 'Thanks, reading it this week' });

    const history = await expectV2(team, 'GET', `/messages/${ours.id}/history`, HISTORY, 200);
    expect(history).toEqual({
      versions: [
        { content: 'Thanks, reading it now', createdAt: ours.createdAt, origin: 'api' },
        { content: 'Thanks, reading it tonight', createdAt: edited.editedAt, origin: 'api' },
        { content: 'Thanks, reading it this week', createdAt: clock.now().toISOString(), origin: 'api' },
      ],
      deletion: null,
      times: 'observed',
    });
    // Their message: sent by the platform's user, so it is theirs to edit.
    const theirHistory = await expectV2(team, 'GET', `/messages/${theirs.id}/history`, HISTORY, 200);
    expect(theirHistory.versions).toEqual([{ content: 'Here is our deck', createdAt: theirs.createdAt, origin: 'platform' }]);
    const notOurs = await expectV2Error(team, 'PATCH', `/messages/${theirs.id}`, MESSAGE, 422, 'messageNotModifiable', { content: 'x' });
    expect(notOurs.details.reason).toMatch(/only our own messages/);
    const tooLong = await expectV2Error(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 422, 'contentRejected', { content: 'x'.repeat(10_001) });
    expect(tooLong.details).toEqual({ detail: "longer than the platform's 10,000 characters" });
    await expectV2Error(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 400, 'invalidRequest', { content: '' });
    await expectV2Error(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 400, 'invalidRequest', { content: 'x', replyTo: 'y' });
    await expectV2Error(team, 'PATCH', `/messages/${ours.id}?expand=thread`, MESSAGE, 400, 'invalidRequest', { content: 'x' });
    await expectV2Error(team, 'PATCH', '/messages/nosuchmessage', MESSAGE, 404, 'messageNotFound', { content: 'x' });
    await expectV2Error(team, 'GET', '/messages/nosuchmessage/history', HISTORY, 404, 'messageNotFound');

    // One store: v1 shows the edit, and keeps its own rule (edits only in X Chat threads, which this one is).
    const listed = (await ok(team.request('GET', `/api/v1/threads/${threadId}/messages`))).messages;
    expect(listed[0]).toMatchObject({ id: ours.id, content: 'Thanks, reading it this week', isEdited: true });
    const events = await expectV2(team, 'GET', '/events?type=message.edited', '/events', 200);
    expect(events.data.map((e: any) => e.object.id)).toEqual([ours.id, ours.id]);
  });

  it('shows the entities of the text as it is now, through its edits', async () => {
    const { ours } = await conversation();
    expect((await expectV2(team, 'GET', `/messages/${ours.id}`, MESSAGE, 200)).entities).toEqual({ urls: [], postShares: [], mentions: [], hashtags: [], cashtags: [], format: [] });
    const edited = await expectV2(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 200, { content: '🙂 Notes in https://docs.example.com/q3 for @sam #q3' });
    expect(edited.entities).toMatchObject({
      urls: [{ url: 'https://docs.example.com/q3', displayUrl: 'docs.example.com/q3', indices: { start: 11, end: 38 } }],
      mentions: [{ username: 'sam', indices: { start: 43, end: 47 } }],
      hashtags: [{ tag: 'q3', indices: { start: 48, end: 51 } }],
    });
    expect(Array.from(edited.content as string).slice(11, 38).join('')).toBe('https://docs.example.com/q3');
  });

  it('edits outside X Chat, where v1 refuses, and only within the sandbox window', async () => {
    // A message we start a conversation with: the thread is no X Chat until they answer.
    const sent = await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalPlatformId: randomPlatformId(), content: 'Hi there' }));
    await fails(team.request('PATCH', `/api/v1/threads/${sent.thread.id}/messages/${sent.message.id}`, { content: 'Hi!' }), 409, 'THREAD_NOT_XCHAT');
    await expectV2(team, 'PATCH', `/messages/${sent.message.id}`, MESSAGE, 200, { content: 'Hi!' });

    const platforms = await expectV2(team, 'GET', '/platforms', '/platforms', 200);
    expect(platforms.find((p: any) => p.platform === 'sandbox').mutationWindows).toEqual({ 'message:edit': 3600, 'message:unsend': 3600 });
    clock.advance(3600 * 1000);
    const closedAt = new Date(Date.parse(sent.message.createdAt) + 3600 * 1000).toISOString();
    const late = await expectV2Error(team, 'PATCH', `/messages/${sent.message.id}`, MESSAGE, 422, 'mutationWindowClosed', { content: 'Too late' });
    expect(late.details).toEqual({ capability: 'message:edit', closedAt });
    const unsend = await expectV2Error(team, 'DELETE', `/messages/${sent.message.id}?scope=all`, MESSAGE, 422, 'mutationWindowClosed');
    expect(unsend.details).toEqual({ capability: 'message:unsend', closedAt });
    // Deleting for oneself has no window.
    await expectV2(team, 'DELETE', `/messages/${sent.message.id}?scope=self`, MESSAGE, 200);
  });

  it('unsends for everyone or deletes for the account only, once', async () => {
    const { threadId, theirs, ours } = await conversation();
    await expectV2Error(team, 'DELETE', `/messages/${theirs.id}?scope=all`, MESSAGE, 422, 'messageNotModifiable');
    const selfDeleted = await expectV2(team, 'DELETE', `/messages/${theirs.id}?scope=self`, MESSAGE, 200);
    expect(selfDeleted).toEqual({ messageId: theirs.id, scope: 'self', deletedAt: clock.now().toISOString() });
    clock.advance(1000);
    const unsent = await expectV2(team, 'DELETE', `/messages/${ours.id}?scope=all`, MESSAGE, 200);
    expect(unsent).toEqual({ messageId: ours.id, scope: 'all', deletedAt: clock.now().toISOString() });
    const again = await expectV2Error(team, 'DELETE', `/messages/${ours.id}?scope=self`, MESSAGE, 422, 'messageNotModifiable');
    expect(again.details.reason).toMatch(/has been deleted/);
    await expectV2Error(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 422, 'messageNotModifiable', { content: 'x' });
    await expectV2Error(team, 'POST', `/messages/${ours.id}/reactions`, REACTIONS, 422, 'messageNotModifiable', { emoji: '👍' });
    await expectV2Error(team, 'DELETE', `/messages/${ours.id}`, MESSAGE, 400, 'invalidRequest');
    await expectV2Error(team, 'DELETE', `/messages/${ours.id}?scope=everyone`, MESSAGE, 400, 'invalidRequest');
    await expectV2Error(team, 'DELETE', `/messages/${ours.id}?scope=self&scope=all`, MESSAGE, 400, 'invalidRequest');
    await expectV2Error(team, 'DELETE', '/messages/nosuchmessage?scope=self', MESSAGE, 404, 'messageNotFound');

    // Deleted messages stay in lists, with the deletion in their history.
    const shown = await expectV2(team, 'GET', `/messages/${ours.id}`, MESSAGE, 200);
    expect(shown.deletedAt).toBe(unsent.deletedAt);
    expect((await expectV2(team, 'GET', `/messages/${ours.id}/history`, HISTORY, 200)).deletion).toEqual({ deletedAt: unsent.deletedAt, scope: 'all', origin: 'api' });
    expect((await expectV2(team, 'GET', `/messages/${theirs.id}/history`, HISTORY, 200)).deletion).toEqual({ deletedAt: selfDeleted.deletedAt, scope: 'self', origin: 'api' });
    const deletions = await expectV2(team, 'GET', '/events?type=message.deleted', '/events', 200);
    expect(deletions.data.slice(-2).map((e: any) => [e.object.id, e.data])).toEqual([
      [theirs.id, { threadId, scope: 'self' }],
      [ours.id, { threadId, scope: 'all' }],
    ]);
  });

  it('adds and removes the account link reactions, versioned, and shows them on the message', async () => {
    const { threadId, theirs } = await conversation();
    const added = await expectV2(team, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 200, { emoji: '👍' });
    expect(added).toEqual({ reactions: [{ emoji: '👍', author: { type: 'accountLink', accountLinkId: account.id }, createdAt: clock.now().toISOString() }], version: 1 });
    // Adding it again changes nothing.
    expect(await expectV2(team, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 200, { emoji: '👍' })).toEqual(added);
    const two = await expectV2(team, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 200, { emoji: '👩🏽‍💻' });
    expect(two.reactions.map((r: any) => r.emoji)).toEqual(['👍', '👩🏽‍💻']);
    expect(two.version).toBe(2);
    expect((await expectV2(team, 'GET', `/messages/${theirs.id}`, MESSAGE, 200)).reactions).toEqual(two.reactions);
    const removed = await expectV2(team, 'DELETE', `/messages/${theirs.id}/reactions?emoji=${thumbsUp}`, REACTIONS, 200);
    expect(removed).toEqual({ reactions: [two.reactions[1]], version: 3 });
    expect(await expectV2(team, 'DELETE', `/messages/${theirs.id}/reactions?emoji=${thumbsUp}`, REACTIONS, 200)).toEqual(removed);
    for (const emoji of ['', 'ok', '👍👍', ' 👍', '👍 ']) {
      await expectV2Error(team, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 400, 'invalidRequest', { emoji });
    }
    await expectV2Error(team, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 400, 'invalidRequest', {});
    await expectV2Error(team, 'DELETE', `/messages/${theirs.id}/reactions`, REACTIONS, 400, 'invalidRequest');
    await expectV2Error(team, 'DELETE', `/messages/${theirs.id}/reactions?emoji=x`, REACTIONS, 400, 'invalidRequest');
    await expectV2Error(team, 'POST', '/messages/nosuchmessage/reactions', REACTIONS, 404, 'messageNotFound', { emoji: '👍' });
    await expectV2Error(team, 'DELETE', `/messages/nosuchmessage/reactions?emoji=${thumbsUp}`, REACTIONS, 404, 'messageNotFound');

    // v1 keeps its own rule: no reactions on sandbox threads; it sees the ones v2 made.
    await fails(team.request('POST', `/api/v1/threads/${threadId}/messages/${theirs.id}/reactions/reactions`, { emoji: '👍' }), 422, 'REACTIONS_NOT_SUPPORTED');
    const v1Message = (await ok(team.request('GET', `/api/v1/threads/${threadId}/messages`))).messages.find((m: any) => m.id === theirs.id);
    expect(v1Message.reactions).toEqual([{ emoji: '👩🏽‍💻', senderPlatformId: account.platformId, createdAt: clock.now().toISOString() }]);
    const reactionEvents = await expectV2(team, 'GET', '/events?type=message.reactionAdded&type=message.reactionRemoved', '/events', 200);
    expect(reactionEvents.data.slice(-3).map((e: any) => [e.type, e.data.emoji])).toEqual([
      ['message.reactionAdded', '👍'],
      ['message.reactionAdded', '👩🏽‍💻'],
      ['message.reactionRemoved', '👍'],
    ]);
  });

  it('restricts what would reach someone who cannot receive messages', async () => {
    // Their DMs are closed when they first write to us, as the contact stores them.
    const person = randomPlatformId();
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${person}`, { dmsOpen: false }));
    const theirs = await inbound(team, account.id, person, 'Do not answer');
    const thread = await expectV2(team, 'GET', `/threads/${theirs.threadId}`, '/threads/{threadId}', 200);
    expect(thread.restrictions).toEqual(['message:send', 'message:reply', 'message:forward', 'message:edit', 'message:unsend', 'message:react']);
    const restricted = await expectV2Error(team, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 422, 'threadRestricted', { emoji: '👍' });
    expect(restricted.details).toEqual({ capability: 'message:react' });
    await expectV2Error(team, 'DELETE', `/messages/${theirs.id}/reactions?emoji=${thumbsUp}`, REACTIONS, 422, 'threadRestricted');
    // Deleting for ourselves reaches no one.
    await expectV2(team, 'DELETE', `/messages/${theirs.id}?scope=self`, MESSAGE, 200);
  });

  it('refuses changes of a paused account link', async () => {
    const { threadId, theirs, ours } = await conversation();
    await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'paused' }));
    try {
      const paused = await expectV2Error(team, 'PATCH', `/messages/${ours.id}`, MESSAGE, 409, 'accountLinkDisconnected', { content: 'x' });
      expect(paused.details).toEqual({ accountLinkId: account.id, status: 'paused' });
      await expectV2Error(team, 'DELETE', `/messages/${ours.id}?scope=all`, MESSAGE, 409, 'accountLinkDisconnected');
      await expectV2Error(team, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 409, 'accountLinkDisconnected', { emoji: '👍' });
      expect(await expectV2(team, 'POST', `/threads/${threadId}/typing`, TYPING, 202)).toEqual({ status: 'skipped', reason: 'disabled' });
    } finally {
      await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'active' }));
    }
  });

  it('shows typing at most once a thread every 2.5 seconds, unless the thread turned it off', async () => {
    const { threadId } = await conversation();
    expect(await expectV2(team, 'POST', `/threads/${threadId}/typing`, TYPING, 202)).toEqual({ status: 'sent', reason: null });
    expect(await expectV2(team, 'POST', `/threads/${threadId}/typing`, TYPING, 202, {})).toEqual({ status: 'skipped', reason: 'rateLimited' });
    clock.advance(2499);
    expect((await expectV2(team, 'POST', `/threads/${threadId}/typing`, TYPING, 202)).reason).toBe('rateLimited');
    clock.advance(1);
    expect(await expectV2(team, 'POST', `/threads/${threadId}/typing`, TYPING, 202)).toEqual({ status: 'sent', reason: null });
    await expectV2(team, 'PATCH', `/threads/${threadId}`, '/threads/{threadId}', 200, { typingIndicators: 'disabled' });
    clock.advance(3000);
    expect(await expectV2(team, 'POST', `/threads/${threadId}/typing`, TYPING, 202)).toEqual({ status: 'skipped', reason: 'disabled' });
    await expectV2Error(team, 'POST', '/threads/nosuchthread/typing', TYPING, 404, 'threadNotFound');
    await expectV2Error(team, 'POST', `/threads/${threadId}/typing?now=1`, TYPING, 400, 'invalidRequest');
  });

  it('takes media and link cards on sandbox inbound, and shows them in v1 and v2', async () => {
    const image = { type: 'image', url: 'https://cdn.example.com/decks/q3%20deck.png', mimeType: 'image/png' };
    const { theirs, threadId } = await conversation(image);
    expect(theirs.attachment).toEqual({ type: 'image', url: image.url, mimeType: 'image/png', filename: 'q3 deck.png', sizeBytes: null, width: null, height: null, durationSeconds: null, previewImageUrl: null });
    const page = await expectV2(team, 'GET', `/threads/${threadId}/messages?order=asc`, '/threads/{threadId}/messages', 200);
    const media = { index: 0, kind: 'image', filename: 'q3 deck.png', contentType: 'image/png', sizeBytes: null, width: null, height: null, aspectRatio: null, durationSeconds: null, status: 'ready', url: image.url, expiresAt: null, poster: null };
    expect(page.data[0].attachments).toEqual([media]);
    expect(page.data[1].attachments).toEqual([]);
    expect(await expectV2(team, 'GET', `/messages/${theirs.id}/attachments/0`, ATTACHMENT, 200)).toEqual(media);
    for (const index of ['1', '-1', 'first', '1.5', '0x1', '9999999999']) {
      await expectV2Error(team, 'GET', `/messages/${theirs.id}/attachments/${index}`, ATTACHMENT, 400, 'invalidRequest');
    }
    await expectV2Error(team, 'GET', '/messages/nosuchmessage/attachments/0', ATTACHMENT, 404, 'messageNotFound');
    // Edits change the text only.
    expect((await ok(team.request('GET', `/api/v1/threads/${threadId}/messages/${theirs.id}/history`))).versions[0].attachment).toEqual(theirs.attachment);

    const card = await ok(team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: randomPlatformId(), content: 'https://www.example.org/post/1', attachment: { type: 'card', url: 'https://www.example.org/post/1' } }));
    expect(card.attachment).toEqual({ type: 'card', url: 'https://www.example.org/post/1', title: null, description: null, domain: 'example.org', imageUrl: null });
    const shown = await expectV2(team, 'GET', `/messages/${card.id}`, MESSAGE, 200);
    expect(shown.attachments).toEqual([{ index: 0, kind: 'card', url: 'https://www.example.org/post/1', title: null, description: null, domain: 'example.org', thumbnail: null }]);
    const cardIndex = await expectV2Error(team, 'GET', `/messages/${card.id}/attachments/0`, ATTACHMENT, 400, 'invalidRequest');
    expect(cardIndex.details.issues[0].path).toEqual(['index']);

    // A DM may be an attachment alone; the attachment must say what it is.
    const photoOnly = await ok(team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: randomPlatformId(), content: '', attachment: { type: 'video', url: 'https://cdn.example.com/demo.mp4' } }));
    expect(photoOnly).toMatchObject({ content: '', attachment: { type: 'video', mimeType: null, filename: 'demo.mp4' } });
    const from = randomPlatformId();
    for (const [body, field] of [
      [{ content: '' }, 'body.content'],
      [{ content: 'x', attachment: { type: 'gif', url: 'https://a.example/x.png', mimeType: 'image/png' } }, 'body.attachment.mimeType'],
      [{ content: 'x', attachment: { type: 'image', url: 'https://a.example/x.gif', mimeType: 'image/gif' } }, 'body.attachment.mimeType'],
      [{ content: 'x', attachment: { type: 'card', url: 'https://a.example/', mimeType: 'text/html' } }, 'body.attachment.mimeType'],
      [{ content: 'x', attachment: { type: 'file', url: 'https://a.example/x', mimeType: 'pdf' } }, 'body.attachment.mimeType'],
      [{ content: 'x', attachment: { type: 'image', url: 'javascript:alert(1)' } }, 'body.attachment.url'],
      [{ content: 'x', attachment: { type: 'sticker', url: 'https://a.example/x' } }, 'body.attachment.type'],
    ] as const) {
      const error = await fails(team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: from, ...body }), 400, 'VALIDATION_ERROR');
      expect((error.details as Array<{ field: string }>).map((d) => d.field)).toContain(field);
    }
  });

  it('finds no message of another team', async () => {
    const { threadId, theirs } = await conversation({ type: 'file', url: 'https://cdn.example.com/terms.pdf', mimeType: 'application/pdf' });
    const other = await newTeam(app);
    await expectV2Error(other, 'PATCH', `/messages/${theirs.id}`, MESSAGE, 404, 'messageNotFound', { content: 'x' });
    await expectV2Error(other, 'DELETE', `/messages/${theirs.id}?scope=self`, MESSAGE, 404, 'messageNotFound');
    await expectV2Error(other, 'GET', `/messages/${theirs.id}/history`, HISTORY, 404, 'messageNotFound');
    await expectV2Error(other, 'POST', `/messages/${theirs.id}/reactions`, REACTIONS, 404, 'messageNotFound', { emoji: '👍' });
    await expectV2Error(other, 'GET', `/messages/${theirs.id}/attachments/0`, ATTACHMENT, 404, 'messageNotFound');
    await expectV2Error(other, 'POST', `/threads/${threadId}/typing`, TYPING, 404, 'threadNotFound');
    expect((await expectV2(team, 'GET', `/messages/${theirs.id}/attachments/0`, ATTACHMENT, 200)).kind).toBe('file');
  });
});

describe('API v2 message changes on X', () => {
  let world: XWorld;
  beforeAll(async () => {
    world = await xWorld({ env: { INBOX_X_POLL_INTERVAL_SECONDS: '60' } });
  });
  afterAll(() => world.close());

  it('reads media and link cards from dm_events, and serves them as attachments', async () => {
    const team = await world.team();
    const { user: me } = await linkX(world, team);
    const lead = world.fake.addUser({ username: 'lead_media', name: 'Lead With Media' });
    world.fake.injectDm(lead.id, me.id, 'Our launch https://t.co/abc', {
      media: [{ type: 'photo', url: 'https://pbs.twimg.com/dm_img/launch.jpg', width: 1200, height: 800, alt_text: 'The launch' }],
      urls: [
        {
          start: 11,
          end: 27,
          url: 'https://t.co/abc',
          expanded_url: 'https://example.com/launch',
          display_url: 'example.com/launch',
          title: 'We launched',
          description: 'Read all about it',
          images: [{ url: 'https://pbs.twimg.com/card_img/launch.jpg', width: 600, height: 314 }],
        },
      ],
    });
    world.clock.advance(1000);
    world.fake.injectDm(lead.id, me.id, '', {
      media: [
        {
          type: 'video',
          preview_image_url: 'https://pbs.twimg.com/dm_video_thumb/demo.jpg',
          width: 1280,
          height: 720,
          duration_ms: 12_345,
          variants: [
            { content_type: 'application/x-mpegURL', url: 'https://video.twimg.com/dm_video/demo.m3u8' },
            { bit_rate: 256_000, content_type: 'video/mp4', url: 'https://video.twimg.com/dm_video/demo-low.mp4' },
            { bit_rate: 2_176_000, content_type: 'video/mp4', url: 'https://video.twimg.com/dm_video/demo-high.mp4' },
          ],
        },
      ],
    });
    world.clock.advance(1000);
    world.fake.injectDm(lead.id, me.id, 'lol', { media: [{ type: 'animated_gif', preview_image_url: 'https://pbs.twimg.com/dm_gif_thumb/lol.jpg', width: 480, height: 270, variants: [{ bit_rate: 0, content_type: 'video/mp4', url: 'https://video.twimg.com/dm_gif/lol.mp4' }] }] });
    await new XPoller(world.ctx).runOnce();

    const threads = await expectV2(team, 'GET', '/threads?folder=all', '/threads', 200);
    const page = await expectV2(team, 'GET', `/threads/${threads.data[0].id}/messages?order=asc`, '/threads/{threadId}/messages', 200);
    const [launch, video, gif] = page.data;
    expect(launch.attachments).toEqual([
      { index: 0, kind: 'image', filename: 'launch.jpg', contentType: 'image/jpeg', sizeBytes: null, width: 1200, height: 800, aspectRatio: 1.5, durationSeconds: null, status: 'ready', url: 'https://pbs.twimg.com/dm_img/launch.jpg', expiresAt: null, poster: null },
      { index: 1, kind: 'card', url: 'https://example.com/launch', title: 'We launched', description: 'Read all about it', domain: 'example.com', thumbnail: { url: 'https://pbs.twimg.com/card_img/launch.jpg', width: 600, height: 314, alt: null } },
    ]);
    expect(video.attachments).toEqual([
      {
        index: 0,
        kind: 'video',
        filename: 'demo-high.mp4',
        contentType: 'video/mp4',
        sizeBytes: null,
        width: 1280,
        height: 720,
        aspectRatio: 1280 / 720,
        durationSeconds: 12.345,
        status: 'ready',
        url: 'https://video.twimg.com/dm_video/demo-high.mp4',
        expiresAt: null,
        poster: { url: 'https://pbs.twimg.com/dm_video_thumb/demo.jpg', expiresAt: null, width: 1280, height: 720 },
      },
    ]);
    expect(gif.attachments[0]).toMatchObject({ kind: 'gif', url: 'https://video.twimg.com/dm_gif/lol.mp4', contentType: 'video/mp4', poster: { url: 'https://pbs.twimg.com/dm_gif_thumb/lol.jpg' } });
    expect(await expectV2(team, 'GET', `/messages/${video.id}/attachments/0`, ATTACHMENT, 200)).toEqual(video.attachments[0]);
    await expectV2Error(team, 'GET', `/messages/${launch.id}/attachments/1`, ATTACHMENT, 400, 'invalidRequest');
    // v1's one slot shows the medium.
    const v1Launch = (await ok(team.request('GET', `/api/v1/threads/${launch.threadId}/messages`))).messages.find((m: any) => m.id === launch.id);
    expect(v1Launch.attachment).toMatchObject({ type: 'image', url: 'https://pbs.twimg.com/dm_img/launch.jpg', mimeType: 'image/jpeg', width: 1200, height: 800 });
  });

  it('reads the media of DMs that Account Activity pushes', async () => {
    const team = await world.team();
    const { user: me } = await linkX(world, team);
    const lead = world.fake.addUser({ username: 'lead_pushed', name: 'Pushed Lead' });
    const push = async (text: string, media: ActivityMedia) => {
      const body = JSON.stringify(accountActivityDm(me.id, { id: world.fake.newId(), senderId: lead.id, recipientId: me.id, text, at: world.clock.now(), media }));
      const response = await world.app.inject({ method: 'POST', url: '/api/v1/x/webhook', headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': webhookSignature(X_CONSUMER_SECRET, body) }, payload: body });
      expect(response.json()).toEqual({ ingested: 1 });
      world.clock.advance(1000);
    };
    await push('A photo', { id_str: '1001', type: 'photo', media_url_https: 'https://ton.twitter.com/1.1/ton/data/dm/1/1001/photo.png', sizes: { large: { w: 2048, h: 1024 } } });
    await push('A clip', {
      id_str: '1002',
      type: 'video',
      media_url_https: 'https://pbs.twimg.com/dm_video_thumb/1002/clip.jpg',
      original_info: { width: 640, height: 360 },
      video_info: { duration_millis: 4000, variants: [{ bitrate: 832_000, content_type: 'video/mp4', url: 'https://video.twimg.com/dm_video/1002/clip.mp4' }] },
    });
    const threads = await expectV2(team, 'GET', '/threads?folder=all', '/threads', 200);
    const [photo, clip] = (await expectV2(team, 'GET', `/threads/${threads.data[0].id}/messages?order=asc`, '/threads/{threadId}/messages', 200)).data;
    expect(photo.attachments).toEqual([
      { index: 0, kind: 'image', filename: 'photo.png', contentType: 'image/png', sizeBytes: null, width: 2048, height: 1024, aspectRatio: 2, durationSeconds: null, status: 'ready', url: 'https://ton.twitter.com/1.1/ton/data/dm/1/1001/photo.png', expiresAt: null, poster: null },
    ]);
    expect(clip.attachments[0]).toMatchObject({ kind: 'video', url: 'https://video.twimg.com/dm_video/1002/clip.mp4', contentType: 'video/mp4', durationSeconds: 4, width: 640, poster: { url: 'https://pbs.twimg.com/dm_video_thumb/1002/clip.jpg' } });
    // A medium of the wrong shape is refused, never half-read.
    const bad = JSON.stringify(accountActivityDm(me.id, { id: world.fake.newId(), senderId: lead.id, recipientId: me.id, text: 'x', at: world.clock.now(), media: { type: 'video', video_info: { variants: 5 } } as unknown as ActivityMedia }));
    const refused = await world.app.inject({ method: 'POST', url: '/api/v1/x/webhook', headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': webhookSignature(X_CONSUMER_SECRET, bad) }, payload: bad });
    expect(refused.statusCode).toBe(400);
  });

  it('refuses what X API v2 cannot do, and deletes our own DM events on X', async () => {
    const team = await world.team();
    const { link, user: me } = await linkX(world, team);
    const lead = world.fake.addUser({ username: 'lead_caps', name: 'Lead' });
    const sent = await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId: link.id, externalPlatformId: lead.id, content: 'Hello from the API' }));
    const theirs = world.fake.injectDm(lead.id, me.id, 'Hi back');
    await new XPoller(world.ctx).runOnce();
    const threadId = sent.thread.id;
    const messages = (await expectV2(team, 'GET', `/threads/${threadId}/messages`, '/threads/{threadId}/messages', 200)).data;
    const ours = messages.find((m: any) => m.direction === 'outbound');
    const inboundOne = messages.find((m: any) => m.platformId === theirs.id);

    const linkShown = await expectV2(team, 'GET', `/account-links/${link.id}`, '/account-links/{accountLinkId}', 200);
    // X's own capabilities, less the media this server cannot upload (docs/api-v2.md, Platform).
    expect(linkShown.capabilities).toEqual(['message:send', 'message:delete:self']);
    const refused = async (method: string, url: string, contract: string, capability: string, body?: unknown) =>
      expect((await expectV2Error(team, method, url, contract, 422, 'capabilityNotSupported', body)).details).toEqual({ capability });
    await refused('PATCH', `/messages/${ours.id}`, MESSAGE, 'message:edit', { content: 'Edited' });
    await refused('DELETE', `/messages/${ours.id}?scope=all`, MESSAGE, 'message:unsend');
    await refused('POST', `/messages/${inboundOne.id}/reactions`, REACTIONS, 'message:react', { emoji: '👍' });
    await refused('DELETE', `/messages/${inboundOne.id}/reactions?emoji=${thumbsUp}`, REACTIONS, 'message:react');
    await refused('POST', `/threads/${threadId}/typing`, TYPING, 'thread:typing:send');

    // X deletes only events the account sent: theirs is refused by X, and stays as it was here.
    const refusedByX = await expectV2Error(team, 'DELETE', `/messages/${inboundOne.id}?scope=self`, MESSAGE, 502, 'platformError');
    expect(refusedByX.message).toMatch(/not permitted to delete/);
    expect((await expectV2(team, 'GET', `/messages/${inboundOne.id}`, MESSAGE, 200)).deletedAt).toBeNull();
    // X's failures: its rate limit, an outage, then a sign-out (which takes the account offline).
    world.fake.failNext('DELETE', /^\/2\/dm_events\//, 429, { title: 'Too Many Requests' }, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.ceil(world.clock.now().getTime() / 1000) + 120) });
    const limited = await expectV2Error(team, 'DELETE', `/messages/${ours.id}?scope=self`, MESSAGE, 429, 'platformRateLimited');
    expect(limited.details.retryAfterSeconds).toBeGreaterThan(100);
    // The account waits out X's window before it calls again.
    world.clock.advance(121_000);
    world.fake.failNext('DELETE', /^\/2\/dm_events\//, 503, { title: 'Service Unavailable' });
    expect((await expectV2Error(team, 'DELETE', `/messages/${ours.id}?scope=self`, MESSAGE, 503, 'platformUnavailable')).details).toEqual({ retryAfterSeconds: null });

    const deleted = await expectV2(team, 'DELETE', `/messages/${ours.id}?scope=self`, MESSAGE, 200);
    expect(deleted).toMatchObject({ messageId: ours.id, scope: 'self' });
    expect(world.fake.deletedFor.has(`${me.id}:${ours.platformId}`)).toBe(true);
    expect((await expectV2(team, 'GET', `/messages/${ours.id}/history`, HISTORY, 200)).deletion).toMatchObject({ scope: 'self', origin: 'api' });
    await expectV2Error(team, 'DELETE', `/messages/${ours.id}?scope=self`, MESSAGE, 422, 'messageNotModifiable');

    const another = await ok(team.request('POST', `/api/v1/threads/${threadId}/messages`, { content: 'One more' }));
    world.fake.failNext('DELETE', /^\/2\/dm_events\//, 401, { title: 'Unauthorized' });
    const signedOut = await expectV2Error(team, 'DELETE', `/messages/${another.id}?scope=self`, MESSAGE, 409, 'accountLinkDisconnected');
    expect(signedOut.details).toEqual({ accountLinkId: link.id, status: 'offline' });
    expect((await expectV2(team, 'GET', `/account-links/${link.id}`, '/account-links/{accountLinkId}', 200)).status).toBe('offline');
    expect(world.fake.countRequests('DELETE', /^\/2\/dm_events\//)).toBe(5);
  });
});

/** The operations this file is about; each status each of them answered was validated against the contract. */
const WALKED = [`PATCH ${MESSAGE}`, `DELETE ${MESSAGE}`, `GET ${HISTORY}`, `POST ${REACTIONS}`, `DELETE ${REACTIONS}`, `GET ${ATTACHMENT}`, `POST ${TYPING}`];

describe('API v2 message changes coverage', () => {
  it('walked every operation of this file (run with the whole file)', () => {
    expect(WALKED.filter((operation) => !coveredV2.has(operation))).toEqual([]);
  });
});
