/**
 * Audit 17: SNMP answered "public" but only one object was read, and nothing
 * judged it. Now the default communities are tried on the declared agents
 * (and UDP 161 when scanned), the system group and interfaces are walked
 * with net-snmp (bounded) and searched, and silence — which is what an agent
 * gives a community it does not know — only counts as protected when the
 * lab's own community gets an answer.
 */
import { assess, verdicts } from './audit-helpers';
import { snmpAgent } from './helpers/servers';
import type { DeviceFileInput } from '../harness/device-file/schema';

const CANARY = 'owner-5b2c@canary.example';
const file = (port: number, lab?: string): DeviceFileInput => ({
  device: { name: 'router' },
  target: { host: '127.0.0.1' },
  scan: { tcp: '1', udp: String(port) },
  services: [{ port, protocol: 'snmp', transport: 'udp' }],
  ...(lab
    ? {
        credentials: { snmp: { username: 'snmp', password: lab } },
        auth: [{ port, protocol: 'snmp' as const, scheme: 'password' as const, credential: 'snmp' }],
      }
    : {}),
  personalData: { declared: ['email'], canaries: { email: CANARY } },
});
const CHECKS = ['auth.unauthenticated-access', 'privacy.personal-data-exposure'];

async function judge(communities: string[], lab?: string, system = { sysDescr: 'RouterOS 7', sysContact: CANARY }) {
  const agent = await snmpAgent(communities, system);
  try {
    const { report } = await assess(file(agent.port, lab), CHECKS);
    const unauth = report.checks.find((c) => c.id === 'auth.unauthenticated-access')!;
    return { v: verdicts(report), text: `${unauth.rationale}\n${unauth.findings.map((f) => f.message).join('\n')}` };
  } finally {
    await agent.close();
  }
}

describe('audit17: SNMP with the default communities', () => {
  it('an agent that answers "public" fails, and the owner in sysContact fails personal-data exposure', async () => {
    const r = await judge(['public']);
    expect(r.v['auth.unauthenticated-access']).toBe('fail');
    expect(r.v['privacy.personal-data-exposure']).toBe('fail');
    expect(r.text).toMatch(/answers the default community "public": \d+ objects of the system group and interfaces read/);
    expect(r.text).not.toContain(CANARY);
  }, 60_000);

  it('"private" is a default too', async () => {
    expect((await judge(['private'], 'lab-c0mm-9')).v['auth.unauthenticated-access']).toBe('fail');
  }, 60_000);

  it("an agent silent to the defaults that answers the lab's community passes", async () => {
    const r = await judge(['lab-c0mm-9'], 'lab-c0mm-9');
    expect(r.v['auth.unauthenticated-access']).toBe('pass');
    expect(r.text).toMatch(/snmp udp\/\d+/);
  }, 60_000);

  it('silence with no lab community declared is unknown, not protected', async () => {
    const r = await judge(['lab-c0mm-9']);
    expect(r.v['auth.unauthenticated-access']).toBe('inconclusive');
    expect(r.text).toMatch(/cannot be told from an agent that is down/);
  }, 60_000);

  it("an agent that answers nobody, the lab's community included, is unknown", async () => {
    const r = await judge(['something-else'], 'lab-c0mm-9');
    expect(r.v['auth.unauthenticated-access']).toBe('inconclusive');
    expect(r.text).toMatch(/the agent may be down/);
  }, 60_000);
});
