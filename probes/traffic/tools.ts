/** The Debian tools the traffic probe drives: a capture tool, the dissector, and nftables for the MITM redirect. */
import { findOnPath } from '../../harness/which';

export interface TrafficTools {
  /** tcpdump, or dumpcap (wireshark-common). */
  capture?: { tool: 'dumpcap' | 'tcpdump'; path: string };
  tshark?: string;
  nft?: string;
}

export function trafficTools(env: NodeJS.ProcessEnv = process.env): TrafficTools {
  const dumpcap = findOnPath('dumpcap', env);
  const tcpdump = findOnPath('tcpdump', env);
  return {
    // tcpdump first: its "listening on" comes once the capture is live, and -U writes each packet at once (the control
    // connection can be seen arriving); dumpcap says "Capturing on" a moment before it captures, and buffers its file.
    capture: tcpdump ? { tool: 'tcpdump', path: tcpdump } : dumpcap ? { tool: 'dumpcap', path: dumpcap } : undefined,
    tshark: findOnPath('tshark', env),
    nft: findOnPath('nft', env),
  };
}

/** Why the capture cannot happen here (the Debian package to install), or null. */
export function missingCaptureTools(t: TrafficTools): string | null {
  const missing: string[] = [];
  if (!t.capture) missing.push('tcpdump (or dumpcap, from wireshark-common)');
  if (!t.tshark) missing.push('tshark');
  return missing.length ? `not installed on this bench: ${missing.join(' and ')} (Debian: apt-get install tshark tcpdump)` : null;
}

export const NFT_MISSING = "nft is not installed on this bench (Debian package nftables): the device's TLS connections cannot be redirected to the responder";
