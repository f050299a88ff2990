import { createHmac } from 'node:crypto';

/**
 * The signature of a v2 webhook delivery, as the vendor's SDK checks it (`constructEvent`): the header
 * `X-Inbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">`, keyed with the endpoint's secret
 * (the whole string, as shown when the endpoint was created).
 */
export function inboxSignature(secret: string, sentAt: Date, body: string): string {
  const t = Math.floor(sentAt.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}
