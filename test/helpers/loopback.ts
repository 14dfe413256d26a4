// Stand-in servers listen on 127.0.0.1 only, on a port the OS picks.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listen on loopback; resolves to the server's base URL. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Close the server and any keep-alive connections still open. */
export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
