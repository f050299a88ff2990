import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes a new connection at once when its client address already holds `max` open ones, so that one client
 * (slow bodies on many connections, say) cannot take every socket the process has.
 */
export function capConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = open.get(address)! - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
