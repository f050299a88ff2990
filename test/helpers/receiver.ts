import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
}

/** The status to answer with, or 'hang' to keep the request open until the receiver closes. */
export type Answer = number | 'hang';

export interface Receiver {
  url: string;
  received: ReceivedRequest[];
  /** the `seq` of each envelope received, in arrival order */
  seqs(): number[];
  close(): Promise<void>;
}

/** A real HTTP endpoint on 127.0.0.1 that records every request and answers as `answer` says. */
export async function startReceiver(answer: (request: ReceivedRequest, index: number) => Answer = () => 200): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      const status = answer(request, received.length - 1);
      if (status !== 'hang') res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    seqs: () => received.map((r) => (JSON.parse(r.body) as { seq: number }).seq),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
