/**
 * `starbench doctor [DEVICE.yaml | HOST]`: one line per fact — the tools this
 * machine has and what each unlocks, serial port access, root, and whether
 * the target answers at all. Exit 0 when nothing blocks a run, 1 otherwise.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { DeviceConnector } from '../harness/connector';
import { findOnPath } from '../harness/which';
import { loadDeviceFile, placeholdersIn } from '../harness/device-file/load';
import { isInputError, StarbenchError } from '../harness/errors';
import { ScopeGuard } from '../harness/scope';
import { EXIT } from '../harness/verdict';
import { nmapPath } from '../probes/ports/nmap';
import { missingCaptureTools, trafficTools } from '../probes/traffic/tools';
import type { ParsedArgs } from './args';
import type { CliIO } from './io';

type Mark = 'ok' | '--' | 'no';
interface Fact {
  mark: Mark;
  text: string;
}

/** Ports a device is likely to answer on when no device file says which. */
const COMMON_PORTS = [22, 23, 80, 443, 554, 1883, 8080, 8443, 8883];

function versionOf(bin: string, args: string[]): string | undefined {
  try {
    const out = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    return out
      .split('\n')
      .find((l) => l.trim())
      ?.trim();
  } catch (err) {
    const e = err as { stdout?: string; code?: string };
    if (e.code === 'ENOENT') return undefined;
    return (
      e.stdout
        ?.split('\n')
        .find((l) => l.trim())
        ?.trim() ?? 'present'
    );
  }
}

function toolFacts(): Fact[] {
  const facts: Fact[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  facts.push({ mark: major >= 20 ? 'ok' : 'no', text: `node v${process.versions.node} (starbench needs 20 or newer)` });
  facts.push(
    __filename.endsWith('.js')
      ? { mark: 'ok', text: 'running the compiled build (dist/, newer than every source it was built from)' }
      : { mark: '--', text: 'running the TypeScript sources through tsx: slower to start, ~20 MB more per run (npm run build)' },
  );
  const nmap = nmapPath();
  facts.push(
    nmap
      ? {
          mark: 'ok',
          text: `nmap ${/Nmap version (\S+)/.exec(versionOf(nmap, ['--version']) ?? '')?.[1] ?? '(version unknown)'}: TCP discovery with nmap -sT (exposure.undeclared-services and every check that needs the port list)`,
        }
      : { mark: '--', text: 'nmap not found: the built-in connect scanner runs instead, slower on the full range (apt-get install nmap)' },
  );
  const uid = process.getuid?.();
  facts.push(
    uid === 0
      ? { mark: 'ok', text: 'root: the reference lab (fixtures/lab: network namespaces) can start' }
      : { mark: '--', text: 'not root: runs need no root; only the reference lab (fixtures/lab) does' },
  );
  const traffic = trafficTools();
  const missing = missingCaptureTools(traffic);
  facts.push(
    missing
      ? { mark: '--', text: `traffic capture: ${missing}; comms.outbound-* and privacy.destinations stay not-tested` }
      : {
          mark: 'ok',
          text: `traffic capture: ${traffic.capture!.tool} and tshark (comms.outbound-plaintext, comms.outbound-tls, privacy.destinations; capturing needs root or CAP_NET_RAW)`,
        },
  );
  facts.push(
    traffic.nft
      ? { mark: 'ok', text: "nft: the opt-in MITM test (comms.certificate-validation) can redirect the device's TLS connections (needs root)" }
      : { mark: '--', text: 'nft not found: comms.certificate-validation stays not-tested (apt-get install nftables)' },
  );
  for (const [bin, use] of [
    ['sslscan', 'TLS cross-check in the lab tests and npm run bench'],
    ['ssh-audit', 'SSH cross-check in the lab tests and npm run bench'],
    ['testssl.sh', 'the hand-run baseline of npm run bench'],
    ['hydra', 'the hand-run baseline of npm run bench'],
  ] as const) {
    const p = findOnPath(bin);
    facts.push(p ? { mark: 'ok', text: `${bin}: ${use}` } : { mark: '--', text: `${bin} not found: only for ${use}` });
  }
  return facts;
}

/** Whether this user may open a serial device, and what to do if not. */
export function serialFact(p: string): Fact {
  if (!existsSync(p)) return { mark: 'no', text: `serial ${p}: no such device (plugged in? ls /dev/ttyUSB* /dev/ttyACM*)` };
  try {
    accessSync(p, constants.R_OK | constants.W_OK);
    return { mark: 'ok', text: `serial ${p}: readable and writable (debug.serial-console, serial actions)` };
  } catch {
    let group = 'dialout';
    try {
      const gid = statSync(p).gid;
      const line = execFileSync('getent', ['group', String(gid)], { encoding: 'utf8', timeout: 2000 }).split(':')[0];
      if (line) group = line;
    } catch {
      /* keep dialout */
    }
    return {
      mark: 'no',
      text: `serial ${p}: permission denied for ${userInfo().username}; add the user to group ${group} (usermod -aG ${group} ${userInfo().username}) and log in again`,
    };
  }
}

function serialCandidates(): string[] {
  try {
    return readdirSync('/dev')
      .filter((f) => /^tty(USB|ACM)\d+$/.test(f))
      .map((f) => `/dev/${f}`);
  } catch {
    return [];
  }
}

async function targetFact(host: string, ports: number[], declared: boolean, connectTimeoutMs: number): Promise<Fact> {
  const scope = new ScopeGuard({ host });
  try {
    await scope.resolve();
  } catch (err) {
    return { mark: 'no', text: `target ${host}: ${(err as Error).message}` };
  }
  const connector = new DeviceConnector(scope, 4, connectTimeoutMs);
  const states = await Promise.all(ports.map((p) => connector.portState(p)));
  const open = ports.filter((_, i) => states[i] === 'open');
  const closed = ports.filter((_, i) => states[i] === 'closed');
  const what = declared ? 'declared TCP ports' : 'common IoT ports';
  // Every port accepting a connection is what a transparent proxy or firewall in the path does, not a device.
  if (!declared && open.length === ports.length && ports.length >= 5)
    return {
      mark: 'no',
      text: `target ${host}: all ${ports.length} ${what} accept connections (${open.join(', ')}): something between this bench and the device may be answering for it; run starbench init and look at what each port says`,
    };
  if (open.length > 0) return { mark: 'ok', text: `target ${host}: ${open.length} of ${ports.length} ${what} answer (${open.join(', ')})` };
  if (closed.length > 0)
    return {
      // Refusals show the host is up, not that anything a run could test is there.
      mark: declared ? 'no' : '--',
      text: `target ${host}: up (it refused connections on ${closed.join(', ')}), but none of ${ports.length} ${what} is open`,
    };
  return {
    mark: 'no',
    text: `target ${host}: none of ${ports.length} ${what} answered within ${connectTimeoutMs} ms (${states.includes('unreachable') ? 'no route' : 'no answer'}; powered, cabled, on this bench's interface?)`,
  };
}

export async function doctorCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [target, ...extra] = args.positionals.slice(1);
  if (extra.length > 0) throw new StarbenchError('USAGE', 'starbench doctor takes at most one device file or host');
  const facts = toolFacts();
  if (target && (target.endsWith('.yaml') || target.endsWith('.yml') || existsSync(target))) {
    try {
      const device = loadDeviceFile(target, { allowTodo: true });
      const todo = placeholdersIn(readFileSync(target, 'utf8'), device.sourcePath);
      facts.push(
        todo.length > 0
          ? { mark: 'no', text: `device file ${device.sourcePath}: ${todo.length} TODO value(s) left (starbench run names each line)` }
          : { mark: 'ok', text: `device file ${device.sourcePath}: valid` },
      );
      const tcp = device.services.filter((s) => s.transport === 'tcp').map((s) => s.port);
      if (tcp.length === 0 && device.services.length > 0)
        facts.push({
          mark: '--',
          text: `device file declares no TCP service (${device.services.map((s) => `${s.transport}/${s.port}`).join(', ')}): doctor asks TCP only, so it tried common IoT ports`,
        });
      facts.push(await targetFact(device.target.host, tcp.length > 0 ? tcp : COMMON_PORTS, tcp.length > 0, device.limits.connectTimeoutMs));
      if (device.target.serial) facts.push(serialFact(device.target.serial.path));
    } catch (err) {
      if (!isInputError(err)) throw err;
      facts.push({ mark: 'no', text: `device file: ${err.message.split('\n')[0]}` });
    }
  } else if (target) {
    facts.push(await targetFact(target, COMMON_PORTS, false, 2000));
  }
  const serials = serialCandidates();
  if (!facts.some((f) => f.text.startsWith('serial '))) {
    if (serials.length === 0) facts.push({ mark: '--', text: 'serial: no USB-UART adapter (/dev/ttyUSB*, /dev/ttyACM*) plugged in' });
    for (const s of serials) facts.push(serialFact(s));
  }
  for (const f of facts) io.out(`${f.mark.padEnd(3)} ${f.text}\n`);
  return facts.some((f) => f.mark === 'no') ? EXIT.failed : EXIT.ok;
}
