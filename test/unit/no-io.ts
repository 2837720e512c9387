/**
 * The unit project's promise, enforced: a unit test that opens a socket or
 * starts a process fails at once (such a test belongs in test/, the
 * integration project).
 */
import child_process from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

const refuse = (what: string) => (): never => {
  throw new Error(`unit tests open no socket and start no process (${what}); move this test to test/ (integration)`);
};
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  (child_process as unknown as Record<string, unknown>)[name] = refuse(`child_process.${name}`);
}
net.Socket.prototype.connect = refuse('net.Socket.connect') as never;
net.Server.prototype.listen = refuse('net.Server.listen') as never;
dgram.Socket.prototype.bind = refuse('dgram bind') as never;
dgram.Socket.prototype.send = refuse('dgram send') as never;
