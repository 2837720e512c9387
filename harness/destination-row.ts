/** The report's destinations table row: a leaf module, so the report schema needs nothing of the probes' facts. */
import { z } from 'zod';

/** One row of the report's destinations table (report.json `destinations`, the HTML report, the diff). */
export const destinationRowSchema = z.object({
  names: z.array(z.string()),
  address: z.string(),
  port: z.number().int(),
  transport: z.enum(['tcp', 'udp', 'icmp']),
  protocol: z.string(),
  /** The highest TLS version the device offered, or null when it spoke no TLS there. */
  tls: z.string().nullable(),
  /** Personal-data categories seen going there: in clear, or read by the MITM responder. */
  personalData: z.array(z.string()),
  /** Sent there in clear: credentials, tokens, secrets (names only). */
  inClear: z.array(z.string()),
  /** Covered by traffic.declaredDestinations; null when the device file declares none. */
  declared: z.boolean().nullable(),
  local: z.boolean(),
  bytesOut: z.number().int(),
  firstFrame: z.number().int(),
});
export type DestinationRow = z.infer<typeof destinationRowSchema>;
