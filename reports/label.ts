/**
 * The data a conformity label or its QR page needs: model, evaluated
 * firmware, evaluation date, scheme and level, overall verdict, and the
 * SHA-256 of report.json so the label points at exactly one report.
 * Written as label.json and label.svg (a QR code of the same JSON) next to
 * report.json, and printed in the HTML report.
 */
import QRCode from 'qrcode';
import { sha256Hex } from '../harness/hash';
import type { Report } from '../harness/report';

/** The exact bytes of report.json: the json reporter writes this, the label digests it. */
export function reportJsonText(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}

export interface LabelData {
  model: string;
  device: string;
  evaluatedFirmware: string;
  evaluationDate: string;
  scheme: string;
  level: string;
  profile: string;
  verdict: string;
  /** incomplete: device-test requirements were not tested — the label must not read as a pass. */
  status: 'complete' | 'incomplete';
  reportDigest: string;
  tool: string;
}

export function labelOf(report: Report): LabelData {
  const fw = report.device.firmware;
  return {
    model: report.device.model ?? report.device.name,
    device: report.device.name,
    // What was seen on the device wins over what was declared.
    evaluatedFirmware: fw.observed ?? fw.declared ?? 'unknown',
    evaluationDate: report.run.startedAt.slice(0, 10),
    scheme: report.profile.scheme ?? report.profile.title,
    level: report.profile.version ? `${report.profile.title} (${report.profile.version})` : report.profile.title,
    profile: report.profile.id,
    verdict: report.summary.verdict,
    status: report.summary.status ?? 'complete',
    reportDigest: `sha256:${sha256Hex(reportJsonText(report))}`,
    tool: `starbench ${report.tool.version}`,
  };
}

/** A QR code (SVG) of the label data, error correction M. */
export function labelSvg(label: LabelData): Promise<string> {
  return QRCode.toString(JSON.stringify(label), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
