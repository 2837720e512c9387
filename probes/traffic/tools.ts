/** The Debian tools the traffic probe drives: a capture tool, the dissector, and nftables for the MITM redirect. */
import { findOnPath } from '../../harness/which';

export interface TrafficTools {
  /** dumpcap (wireshark-common, bounded by its own autostop) or tcpdump. */
  capture?: { tool: 'dumpcap' | 'tcpdump'; path: string };
  tshark?: string;
  nft?: string;
}

export function trafficTools(env: NodeJS.ProcessEnv = process.env): TrafficTools {
  const dumpcap = findOnPath('dumpcap', env);
  const tcpdump = findOnPath('tcpdump', env);
  return {
    capture: dumpcap ? { tool: 'dumpcap', path: dumpcap } : tcpdump ? { tool: 'tcpdump', path: tcpdump } : undefined,
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
