/** `starbench list profiles|checks|probes` and `starbench schema device|report`. */
import { z } from 'zod';
import { deviceFileSchema } from '../harness/device-file/schema';
import { StarbenchError } from '../harness/errors';
import { listProfiles } from '../harness/profile';
import { reportJsonSchema } from '../harness/report';
import { loadRegistry } from './plugins';
import type { ParsedArgs } from './args';
import type { CliIO } from './io';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

export function listCommand(args: ParsedArgs, io: CliIO): number {
  const what = args.positionals[1];
  const registry = loadRegistry(args.values.plugin);
  if (what === 'profiles') {
    const rows = [['ID', 'REQUIREMENTS', 'AUTOMATED', 'TITLE']];
    for (const p of listProfiles()) {
      const reqs = p.requirements.filter((r) => !r.supplementary);
      const automated = reqs.filter((r) => r.checks.some((c) => registry.checks.get(c)?.implemented)).length;
      rows.push([p.id, String(reqs.length), String(automated), p.title]);
    }
    io.out(table(rows));
  } else if (what === 'checks') {
    const rows = [['ID', 'STATE', 'FAILS WHEN']];
    for (const c of registry.checks.values()) rows.push([c.id, c.implemented ? 'implemented' : 'not-implemented', c.failsWhen]);
    io.out(table(rows));
  } else if (what === 'probes') {
    const rows = [['ID', 'NEEDS', 'TITLE']];
    for (const p of registry.probes.values()) rows.push([p.id, p.needs.join(',') || '-', p.title]);
    io.out(table(rows));
  } else {
    throw new StarbenchError('USAGE', 'starbench list takes one of: profiles, checks, probes');
  }
  return 0;
}

export function schemaCommand(args: ParsedArgs, io: CliIO): number {
  const what = args.positionals[1];
  let schema: object;
  if (what === 'device') schema = z.toJSONSchema(deviceFileSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  else if (what === 'report') schema = reportJsonSchema();
  else throw new StarbenchError('USAGE', 'starbench schema takes one of: device, report');
  io.out(JSON.stringify(schema, null, 2) + '\n');
  return 0;
}
