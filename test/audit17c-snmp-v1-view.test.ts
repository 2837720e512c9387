/**
 * A fourth audit. SNMP: a v1-only agent whose "public" view leaves out sysDescr.0 answers the probe's GET with
 * errorStatus noSuchName. net-snmp turns that answer into an error, askSnmp's getOne calls it
 * { ok: false } and the agent counts as *silent* to "public" — then the lab community answers, and
 * the agent is judged protected, although "public" was accepted and reads sysContact (the owner).
 * Device: a UDP front (v2c dropped, as v1-only agents do) routing "public" to a net-snmp agent
 * without sysDescr and the lab community to one with the full system group.
 */
import dgram from 'node:dgram';
import { assess } from './audit-helpers';
import { snmpAgent } from './helpers/servers';

const CANARY = 'owner-5b2c@canary.example';
const LAB = 'lab-c0mm-9';

/** version and community of an SNMP message (BER: SEQUENCE { INTEGER version, OCTET STRING community, ... }). */
function head(b: Buffer): { version: number; community: string; pdu: number; status: number } | null {
  try {
    let o = 1;
    const len = (): number => {
      const l = b[o++];
      if (l < 0x80) return l;
      let n = 0;
      for (let k = 0; k < (l & 0x7f); k++) n = n * 256 + b[o++];
      return n;
    };
    if (b[0] !== 0x30) return null;
    len();
    if (b[o++] !== 0x02) return null;
    const vl = len();
    const version = b[o + vl - 1];
    o += vl;
    if (b[o++] !== 0x04) return null;
    const cl = len();
    const community = b.subarray(o, o + cl).toString('latin1');
    o += cl;
    const pduTag = b[o++];
    len();
    if (b[o++] !== 0x02) return null;
    const rl = len();
    o += rl; // request-id
    // error-status INTEGER: its value's offset
    return { version, community, pdu: pduTag, status: b[o] === 0x02 && b[o + 1] === 1 ? o + 2 : -1 };
  } catch {
    return null;
  }
}

it('a v1 agent that answers "public" with noSuchName for sysDescr.0 is not "protected"', async () => {
  const restricted = await snmpAgent(['public'], { sysContact: CANARY, sysName: 'router' });
  const full = await snmpAgent([LAB], { sysDescr: 'RouterOS 7', sysContact: CANARY });
  const front = dgram.createSocket('udp4');
  const clients = new Map<number, dgram.RemoteInfo>();
  let nextId = 0;
  front.on('message', (msg, rinfo) => {
    const h = head(msg);
    if (!h || h.version !== 0) return; // v1 only: v2c dropped
    const to = h.community === 'public' ? restricted.port : h.community === LAB ? full.port : 0;
    if (!to) return;
    const relay = dgram.createSocket('udp4');
    const id = nextId++;
    clients.set(id, rinfo);
    relay.on('message', (answer) => {
      // RFC 1157 §4.1.2.4: a v1 GetRequest for an object outside the community's view is noSuchName (error-status 2, index 1).
      const a = head(answer);
      if (h.community === 'public' && h.pdu === 0xa0 && a && a.status > 0 && answer.includes(Buffer.from([0x80, 0x00]))) {
        answer = Buffer.from(answer);
        answer[a.status] = 2;
        answer[a.status + 3] = 1;
      }
      front.send(answer, rinfo.port, rinfo.address);
      relay.close();
    });
    relay.send(msg, to, '127.0.0.1');
    setTimeout(() => {
      try {
        relay.close();
      } catch {
        /* closed */
      }
    }, 3000).unref();
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  const port = front.address().port;
  try {
    const { report } = await assess(
      {
        device: { name: 'router' },
        target: { host: '127.0.0.1' },
        scan: { tcp: '1', udp: String(port) },
        services: [{ port, protocol: 'snmp', transport: 'udp' }],
        credentials: { snmp: { username: 'snmp', password: LAB } },
        auth: [{ port, protocol: 'snmp', scheme: 'password', credential: 'snmp' }],
        personalData: { declared: ['email'], canaries: { email: CANARY } },
      },
      ['auth.unauthenticated-access'],
    );
    const c = report.checks.find((x) => x.id === 'auth.unauthenticated-access')!;
    expect(c.verdict).not.toBe('pass');
  } finally {
    front.close();
    await restricted.close();
    await full.close();
  }
}, 60_000);
