/**
 * A bounded capture on the bench interface with Debian's dumpcap or tcpdump:
 * only the device's addresses (and MAC) in the filter, stopped by time and
 * by size, the pcap kept as evidence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import net from 'node:net';

export interface CaptureOptions {
  tool: 'dumpcap' | 'tcpdump';
  path: string;
  iface: string;
  filter: string;
  file: string;
  maxBytes: number;
  /** Hard bound: the capture stops by itself this long after it starts, whatever the caller does. */
  maxMs: number;
}

export interface CaptureStats {
  packets?: number;
  dropped?: number;
  /** The size bound stopped it before the caller did. */
  truncated: boolean;
  bytes: number;
  /** What went wrong (the tool's own words), when it did. */
  error?: string;
}

export interface Capture {
  /** Resolves once the tool says it is capturing; rejects with its words when it cannot. */
  ready: Promise<void>;
  /** Bytes written so far (tcpdump writes each packet at once; dumpcap buffers). */
  written(): number;
  stop(): Promise<CaptureStats>;
}

/** The BPF filter for the device: its addresses, and its MAC when declared. */
export function deviceFilter(addresses: string[], mac?: string): string {
  const parts = addresses.map((a) => (net.isIPv6(a) ? `ip6 host ${a}` : `host ${a}`));
  if (mac) parts.push(`ether host ${mac.toLowerCase()}`);
  return parts.join(' or ');
}

export const SNAPLEN = 262144;
/** After the window, the capture keeps reading this long before it is stopped: the last packets are still in the kernel's buffer. */
const DRAIN_MS = 700;
const READY = /Capturing on|listening on/;
const READY_MS = 15_000;

function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

export function startCapture(o: CaptureOptions): Capture {
  const kb = Math.max(1, Math.floor(o.maxBytes / 1000));
  // Snap length 262144 (a 64 KiB GRO segment whole); tcpdump in immediate mode, writing each packet at once; dumpcap
  // writing classic pcap (-P) like tcpdump, so the masking reads one format.
  const args =
    o.tool === 'dumpcap'
      ? ['-i', o.iface, '-f', o.filter, '-w', o.file, '-P', '-a', `filesize:${kb}`, '-a', `duration:${Math.ceil(o.maxMs / 1000)}`, '-s', String(SNAPLEN)]
      : ['-i', o.iface, '-w', o.file, '-U', '--immediate-mode', '-n', '-s', String(SNAPLEN), '-Z', 'root', o.filter];
  const child: ChildProcess = spawn(o.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited = false;
  let spawnError: string | undefined;
  let truncated = false;
  let stopping = false;
  const exit = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err.message;
      exited = true;
      resolve();
    });
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    if (stderr.length < 64 * 1024) stderr += c;
  });
  // tcpdump has no size bound of its own: watch the file. dumpcap stops itself; this also notices when it did.
  const watch = setInterval(() => {
    if (fileSize(o.file) >= o.maxBytes * 0.98) {
      truncated = true;
      if (!exited) child.kill('SIGINT');
    }
  }, 200);
  const hard = setTimeout(() => {
    if (!exited) child.kill('SIGINT');
  }, o.maxMs);
  const ready = new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const tick = setInterval(() => {
      if (READY.test(stderr)) {
        clearInterval(tick);
        resolve();
      } else if (exited || Date.now() - t0 > READY_MS) {
        clearInterval(tick);
        reject(new Error(`${o.tool} did not start capturing on ${o.iface}: ${(spawnError ?? stderr.trim().split('\n').slice(-2).join(' ')) || 'no answer'}`));
      }
    }, 50);
  });
  ready.catch(() => undefined);
  return {
    ready,
    written: () => fileSize(o.file),
    async stop(): Promise<CaptureStats> {
      if (!stopping) {
        stopping = true;
        // Early exit (size, duration, or a failure) before the caller asked to stop.
        if (exited && !truncated && /filesize/i.test(stderr)) truncated = true;
        if (!exited) await new Promise((r) => setTimeout(r, DRAIN_MS));
        if (!exited) child.kill('SIGINT');
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(kill);
      }
      clearInterval(watch);
      clearTimeout(hard);
      const packets = /Packets captured:\s*(\d+)|(\d+) packets? captured/.exec(stderr);
      const dropped = /(\d+) packets? dropped by kernel|dropped[^\n]*?:\s*\d+\/(\d+)/.exec(stderr);
      const bytes = fileSize(o.file);
      const failed = spawnError ?? (bytes === 0 ? stderr.trim().split('\n').slice(-2).join(' ') || 'no capture file written' : undefined);
      return {
        packets: packets ? Number(packets[1] ?? packets[2]) : undefined,
        dropped: dropped ? Number(dropped[1] ?? dropped[2]) : undefined,
        truncated,
        bytes,
        ...(failed ? { error: failed } : {}),
      };
    },
  };
}
