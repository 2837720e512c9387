/**
 * A fourth audit. RTSP: a 401 on *any* path makes the whole port "asks for credentials", even when the declared stream path
 * itself gave no answer within 3 s (a camera whose encoder takes 4 s to produce the SDP serves the stream to
 * anyone). rtspWithoutLogin counts `refused` across paths and never asks whether the declared path was answered.
 */
import http from 'node:http';
import net from 'node:net';
import { assess, labWebDevice } from './audit-helpers';
import { listenOn } from './helpers/servers';

const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

it('the declared stream path unanswered in 3 s, 401 elsewhere: not a pass', async () => {
  const cam = await listenOn(
    http.createServer((req, res) => {
      if (req.url === '/admin' && req.headers.authorization === LAB) return void res.writeHead(200).end('ok');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    }),
  );
  const timers = new Set<NodeJS.Timeout>();
  const rtsp = await listenOn(
    net.createServer((s) => {
      s.on('error', () => undefined);
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (buf.indexOf('\r\n\r\n') < 0) return;
        const [method, url] = buf.split(' ');
        const cseq = buf.match(/CSeq: (\d+)/)?.[1] ?? '0';
        buf = '';
        if (method !== 'DESCRIBE') return void s.end(`RTSP/1.0 400 Bad Request\r\nCSeq: ${cseq}\r\n\r\n`);
        if (/\/cam\/main$/.test(url)) {
          // The stream, open to anyone: the SDP comes once the encoder is up (4 s).
          const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nm=video 0 RTP/AVP 96\r\n';
          const t = setTimeout(
            () => !s.destroyed && s.end(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`),
            4000,
          );
          timers.add(t);
          return;
        }
        // Every path it does not serve: 401 (the server asks before it looks the path up).
        s.end(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Digest realm="cam", nonce="1"\r\n\r\n`);
      });
    }),
  );
  try {
    const { report } = await assess(
      labWebDevice(cam.port, '/admin', {
        scan: { tcp: `${cam.port},${rtsp.port}` },
        services: [
          { port: cam.port, protocol: 'http' },
          { port: rtsp.port, protocol: 'rtsp' },
        ],
        auth: [
          { port: cam.port, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin' },
          { port: rtsp.port, protocol: 'rtsp', path: '/cam/main', scheme: 'digest', credential: 'admin' },
        ],
      }),
      ['auth.unauthenticated-access'],
    );
    const c = report.checks.find((x) => x.id === 'auth.unauthenticated-access')!;
    expect(c.verdict).not.toBe('pass');
  } finally {
    timers.forEach(clearTimeout);
    await rtsp.close();
    await cam.close();
  }
}, 90_000);
