/**
 * Audit 17: ports the scan could not name were listed as "asked" but asked
 * nothing. An undeclared TLS port (identified only as "tls") serving its
 * configuration over HTTPS, and a bind shell that prints nothing until spoken
 * to, both passed auth.unauthenticated-access. Now such a port is asked as
 * HTTP(S), as MQTT over TLS and as a shell (a newline, then the arithmetic);
 * one that answers none of them is unknown, never "nothing open".
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { selfSignedCert } from '../probes/util/cert';
import { assess, labWebDevice, verdicts } from './audit-helpers';
import { listenOn, openShellServer, type Running } from './helpers/servers';

const CERT = selfSignedCert({ commonName: 'cam.local', bits: 2048 });
const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

/** The declared camera: HTTP with the lab's Basic login on /admin, nothing open on it. */
async function camera(): Promise<Running> {
  return listenOn(
    http.createServer((req, res) => {
      if (req.url === '/admin' && req.headers.authorization === LAB) return void res.writeHead(200).end('ok');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    }),
  );
}

/** The camera plus one undeclared port; the verdict of auth.unauthenticated-access and what it said. */
async function withExtra(extra: net.Server) {
  const cam = await camera();
  const other = await listenOn(extra);
  try {
    const { report } = await assess(labWebDevice(cam.port, '/admin', { scan: { tcp: `${cam.port},${other.port}` } }), ['auth.unauthenticated-access']);
    return { verdict: verdicts(report)['auth.unauthenticated-access'], text: JSON.stringify(report.checks[0]) };
  } finally {
    await other.close();
    await cam.close();
  }
}

describe('audit17: ports the scan could not name are asked before they count', () => {
  it('an undeclared TLS port serving the Wi-Fi key over HTTPS fails (observed: pass)', async () => {
    const r = await withExtra(
      https.createServer(CERT, (req, res) => {
        if (req.url === '/api/config') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"wifi":{"psk":"S3cretWifiKey"}}');
        res.writeHead(404).end();
      }),
    );
    expect(r.verdict).toBe('fail');
    expect(r.text).toMatch(/https \d+ \/api\/config/);
    expect(r.text).not.toContain('S3cretWifiKey');
  }, 90_000);

  it('a bind shell that prints nothing until spoken to fails (observed: pass)', async () => {
    const r = await withExtra(openShellServer(''));
    expect(r.verdict).toBe('fail');
    expect(r.text).toMatch(/a shell that runs commands with no login/);
  }, 90_000);

  it('a port that accepts and never answers is unknown, not "nothing open"', async () => {
    const r = await withExtra(net.createServer((s) => s.on('error', () => undefined)));
    expect(r.verdict).toBe('inconclusive');
    expect(r.text).toMatch(/neither a login prompt nor a shell, also after a newline/);
  }, 90_000);

  it('a TLS port that speaks no protocol asked is unknown', async () => {
    const r = await withExtra(tls.createServer(CERT, (s) => s.on('error', () => undefined)));
    expect(r.verdict).toBe('inconclusive');
    expect(r.text).toMatch(/MQTT over TLS/);
  }, 90_000);

  it('a command line without login that is no POSIX shell needs a reviewer (inconclusive)', async () => {
    const r = await withExtra(
      net.createServer((s) => {
        s.on('error', () => undefined);
        s.write('Vendor CLI v2\r\n> ');
        s.on('data', () => s.write('% Unknown command\r\n> '));
      }),
    );
    expect(r.verdict).toBe('inconclusive');
    expect(r.text).toMatch(/vendor command line needs a reviewer/);
  }, 90_000);

  it('a silent port that asks for a login once spoken to counts as asked: the camera passes', async () => {
    const r = await withExtra(
      net.createServer((s) => {
        s.on('error', () => undefined);
        s.once('data', () => s.write('\r\nservice login: '));
      }),
    );
    expect(r.verdict).toBe('pass');
  }, 90_000);

  describe('RTSP (a camera stream)', () => {
    /** An RTSP server: `open` serves a session description on /live, `auth` answers 401 to everything, `lost` 404. */
    const rtsp = (mode: 'open' | 'auth' | 'lost') =>
      net.createServer((s) => {
        s.on('error', () => undefined);
        let buf = '';
        s.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const [method, url] = buf.split(' ');
          const cseq = buf.match(/CSeq: (\d+)/)?.[1] ?? '0';
          buf = '';
          if (method !== 'DESCRIBE') return void s.end(`RTSP/1.0 400 Bad Request\r\nCSeq: ${cseq}\r\n\r\n`);
          if (mode === 'auth') return void s.end(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Digest realm="cam", nonce="1"\r\n\r\n`);
          if (mode === 'open' && /\/live$/.test(url)) {
            const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nm=video 0 RTP/AVP 96\r\n';
            return void s.end(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`);
          }
          s.end(`RTSP/1.0 404 Not Found\r\nCSeq: ${cseq}\r\n\r\n`);
        });
      });

    it('an undeclared stream that opens without credentials fails', async () => {
      const r = await withExtra(rtsp('open'));
      expect(r.verdict).toBe('fail');
      expect(r.text).toMatch(/rtsp \d+ \/live: RTSP DESCRIBE answered 200 with a session description/);
    }, 90_000);

    it('a stream that asks for credentials counts as asked', async () => {
      expect((await withExtra(rtsp('auth'))).verdict).toBe('pass');
    }, 90_000);

    it('a server whose stream path was not found is unknown, and says to declare it', async () => {
      const r = await withExtra(rtsp('lost'));
      expect(r.verdict).toBe('inconclusive');
      expect(r.text).toMatch(/declare the stream's path under auth\[\]/);
    }, 90_000);
  });
});
