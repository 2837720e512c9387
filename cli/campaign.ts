/**
 * `starbench campaign create|status|report`: many devices, many benches, one
 * store. `create` packs each device file (validated exactly as `run` would)
 * into a job; `status` shows where each job is; `report` writes every run's
 * reports and the fleet summary across benches from what the agents stored.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkName, packDevice, verifiedFetch } from '../harness/campaign/bundle';
import { BENCH_NAME } from '../harness/device-file/schema';
import { MAX_ATTEMPTS, Store, type JobRow } from '../harness/campaign/store';
import { DEFAULT_STORE, EMBEDDED_SCHEME, embeddedDir, serveEmbedded } from '../harness/campaign/embedded';
import { errorMessage, isInputError, StarbenchError } from '../harness/errors';
import { EXIT } from '../harness/verdict';
import type { ParsedArgs } from './args';
import { deviceFiles, fleetExit, renderFleetHtml, type FleetRow, type FleetSummary } from './fleet';
import type { CliIO } from './io';
import { reportCommand } from './report';
import { diffCommand } from './evidence';
import { DEFAULT_PROFILE } from '../harness/profile';
import { reapStale } from './agent';

function dbUrl(args: ParsedArgs): string {
  // One host needs no database server: the embedded store (PGlite) in runs/campaign-store.
  return args.values.db ?? process.env.STARBENCH_DB ?? DEFAULT_STORE;
}

function campaignName(args: ParsedArgs, sub: string): string {
  const name = args.positionals[2];
  if (!name) throw new StarbenchError('USAGE', `starbench campaign ${sub} needs the campaign's name`);
  if (!BENCH_NAME.test(name)) throw new StarbenchError('USAGE', `a campaign name is letters, digits, . _ - (up to 63), got "${name}"`);
  return name;
}

/** The agents' public key (PEM): --key FILE, else STARBENCH_AGENT_PUBLIC_KEY (a file). */
function publicKey(args: ParsedArgs): string {
  const file = args.values.key ?? process.env.STARBENCH_AGENT_PUBLIC_KEY;
  if (!file)
    throw new StarbenchError(
      'USAGE',
      "campaign create seals each device file to the agents' public key: --key agents.pub.pem (starbench agent keygen writes one)",
    );
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new StarbenchError('USAGE', `the agents' public key ${file} cannot be read: ${errorMessage(err)}`);
  }
}

export async function campaignCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const sub = args.positionals[1];
  if (sub === 'create') return create(args, io);
  if (sub === 'status') return status(args, io);
  if (sub === 'report') return report(args, io);
  if (sub === 'serve') return serve(args, io);
  throw new StarbenchError('USAGE', `starbench campaign takes create, status, report or serve${sub ? `, not "${sub}"` : ''}`);
}

/** `campaign serve [DIR]`: the embedded store's server (started detached by the commands that need it). */
async function serve(args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = embeddedDir(args.positionals[2] ? `${EMBEDDED_SCHEME}${args.positionals[2]}` : (args.values.db ?? DEFAULT_STORE));
  if (!dir) throw new StarbenchError('USAGE', 'starbench campaign serve takes a folder (or --db pglite:FOLDER)');
  const idle = Number(args.values['idle-exit'] ?? process.env.STARBENCH_STORE_IDLE_SECONDS ?? 600);
  if (!Number.isFinite(idle) || idle <= 0) throw new StarbenchError('USAGE', `--idle-exit takes seconds, got "${args.values['idle-exit']}"`);
  await serveEmbedded(dir, idle * 1000, io.signal, (l) => io.err(`${l}\n`));
  return EXIT.ok;
}

async function create(args: ParsedArgs, io: CliIO): Promise<number> {
  const name = campaignName(args, 'create');
  const targets = args.positionals.slice(3);
  if (!targets.length) throw new StarbenchError('USAGE', 'starbench campaign create NAME needs device files or a folder of them');
  const profile = args.values.profile ?? DEFAULT_PROFILE;
  if (args.values.bench !== undefined && !BENCH_NAME.test(args.values.bench))
    throw new StarbenchError('USAGE', `--bench takes a bench name (letters, digits, . _ -), got "${args.values.bench}"`);
  const key = publicKey(args);
  const files = deviceFiles(targets);
  // Every file is packed (and so validated) before the store is touched; a broken one is refused, the rest go in.
  const packed = files.map((file) => {
    try {
      return { file, packed: packDevice(file, { profile, plugins: args.values.plugin ?? [], bench: args.values.bench, publicKey: key }) };
    } catch (err) {
      if (!isInputError(err)) throw err;
      io.err(`starbench: refused ${file}: ${err.message}\n`);
      return { file, error: err.message };
    }
  });
  const store = await Store.open(dbUrl(args));
  try {
    let added = 0;
    for (const p of packed) {
      if (!p.packed) continue;
      const r = await store.enqueue(name, p.packed, path.resolve(p.file));
      added += r.created ? 1 : 0;
      io.err(
        `${r.created ? 'queued' : 'already in the campaign'}: ${p.packed.manifest.deviceName} (${p.file}) → ${r.id}${p.packed.manifest.bench ? ` on bench ${p.packed.manifest.bench}` : ' on any bench'}\n`,
      );
    }
    const refused = packed.filter((p) => !p.packed).length;
    io.out(`campaign ${name}: ${added} job(s) queued, ${packed.length - refused - added} already there, ${refused} refused\n`);
    return refused ? EXIT.usage : EXIT.ok;
  } finally {
    await store.close();
  }
}

/** What `status --json` prints per job (other tools read it: keep it stable). */
export interface StatusJob {
  id: string;
  device: string;
  bench: string | null;
  state: JobRow['state'];
  attempts: number;
  checks?: Record<string, string>;
  runningOn?: string;
  lastError?: string;
  repeated?: string[];
}

export function statusJson(name: string, jobs: JobRow[]): { campaign: string; jobs: StatusJob[] } {
  return {
    campaign: name,
    jobs: jobs.map((j) => ({
      id: j.id,
      device: j.device,
      bench: j.runningBench ?? j.bench,
      state: j.state,
      attempts: j.attempts,
      ...(j.state === 'done' && j.checks ? { checks: j.checks } : {}),
      ...(j.state === 'running' && j.agent ? { runningOn: j.agent } : {}),
      ...(j.lastError ? { lastError: j.lastError } : {}),
      ...(j.repeated?.length ? { repeated: j.repeated } : {}),
    })),
  };
}

async function status(args: ParsedArgs, io: CliIO): Promise<number> {
  const name = campaignName(args, 'status');
  const store = await Store.open(dbUrl(args), { supervise: false });
  try {
    if (!(await store.campaignExists(name))) throw new StarbenchError('USAGE', `no campaign "${name}" in this store`);
    // A job whose agent died shows as such now, not when the next agent looks.
    await reapStale(store);
    const jobs = await store.jobs(name);
    if (args.values.json) {
      io.out(JSON.stringify(statusJson(name, jobs), null, 2) + '\n');
    } else {
      const w = Math.max(6, ...jobs.map((j) => j.device.length));
      io.out(`campaign ${name}: ${jobs.length} job(s)\n`);
      for (const j of jobs) {
        const verdicts = j.checks ? Object.values(j.checks) : [];
        const what =
          j.state === 'done'
            ? `${verdicts.filter((v) => v === 'fail').length} fail, ${verdicts.filter((v) => v === 'pass').length} pass of ${verdicts.length} checks (exit ${j.exitCode})`
            : j.state === 'running'
              ? `on ${j.agent} (bench ${j.runningBench}), heartbeat ${j.heartbeatAt}`
              : (j.lastError ?? '');
        const tries = j.attempts > 1 ? ` (try ${j.attempts} of ${MAX_ATTEMPTS})` : '';
        io.out(
          `  ${j.device.padEnd(w)}  ${j.state.padEnd(7)} ${(j.bench ?? 'any').padEnd(10)} ${what}${tries}${j.repeated?.length ? `; repeated: ${j.repeated.join(', ')}` : ''}\n`,
        );
      }
    }
    const open = jobs.some((j) => j.state === 'queued' || j.state === 'running');
    return open ? EXIT.incomplete : fleetExit(jobs.map((j) => (j.state === 'done' ? (j.exitCode ?? EXIT.incomplete) : EXIT.incomplete)));
  } finally {
    await store.close();
  }
}

/** Every done job's run folder rebuilt from its stored journal and re-judged into OUT/DEVICE, plus the fleet summary. */
async function report(args: ParsedArgs, io: CliIO): Promise<number> {
  const name = campaignName(args, 'report');
  const outDir = path.resolve(args.values.out ?? path.join('runs', `campaign-${name}`));
  const store = await Store.open(dbUrl(args), { supervise: false });
  try {
    if (!(await store.campaignExists(name))) throw new StarbenchError('USAGE', `no campaign "${name}" in this store`);
    const jobs = await store.jobs(name);
    const rows: FleetRow[] = [];
    const surveillance: Array<{ id: string; device: string; worse?: boolean; diff?: string; error?: string }> = [];
    for (const j of jobs) {
      const slug = `${j.device.replace(/[^A-Za-z0-9._-]+/g, '-')}-${j.id.split('/')[1]}`;
      if (j.state !== 'done') {
        rows.push({
          file: j.deviceFile,
          device: j.device,
          verdict: j.state === 'dead' || j.state === 'failed' ? 'error' : 'not-tested',
          exitCode: EXIT.incomplete,
          failed: [],
          durationMs: 0,
          error: j.lastError ?? j.state,
        });
        continue;
      }
      const runDir = path.join(outDir, slug, 'run');
      mkdirSync(runDir, { recursive: true });
      writeFileSync(path.join(runDir, 'journal.jsonl'), (await store.journal(j.id)).join('\n') + '\n');
      const reportDir = path.join(outDir, slug);
      // The job's own catalog file and plugins (never secret) judge it again; a built-in profile is found by its id.
      const m = j.manifest;
      // Names checked, contents checked against their hashes: what the store holds is not trusted as paths or code.
      const verified = verifiedFetch((sha) => store.blob(sha));
      const profile = 'id' in m.profile ? m.profile.id : path.join(reportDir, 'profile', checkName(m.profile.name));
      if (!('id' in m.profile)) {
        mkdirSync(path.dirname(profile), { recursive: true });
        writeFileSync(profile, await verified(m.profile.blob));
      }
      const plugins: string[] = [];
      for (const p of m.plugins) {
        const to = path.join(reportDir, 'plugins', `${checkName(p.blob.slice(0, 12))}-${checkName(p.name)}`);
        mkdirSync(path.dirname(to), { recursive: true });
        writeFileSync(to, await verified(p.blob));
        plugins.push(to);
      }
      const code = await reportCommand(
        {
          values: { ...args.values, out: reportDir, plugin: plugins.length ? plugins : undefined, quiet: true, profile },
          positionals: ['report', runDir],
        } as ParsedArgs,
        { ...io, out: () => undefined },
      ).catch((err: unknown) => {
        io.err(`starbench: ${j.device}: the stored run does not re-judge: ${errorMessage(err)}\n`);
        return EXIT.incomplete;
      });
      // A surveillance unit: its run against the certified one (firmware, services, verdicts, findings).
      if (m.certifiedRun) {
        const certified = path.join(reportDir, 'certified-run');
        mkdirSync(certified, { recursive: true });
        for (const f of m.files.filter((x) => x.rel.startsWith(`${m.certifiedRun}/`)))
          writeFileSync(path.join(certified, checkName(path.basename(f.rel))), await verified(f.sha256));
        const diffDir = path.join(reportDir, 'diff');
        try {
          const worse =
            diffCommand(
              { values: { out: diffDir, profile: 'id' in m.profile ? undefined : profile }, positionals: ['diff', certified, runDir] } as ParsedArgs,
              {
                ...io,
                out: () => undefined,
              },
            ) !== EXIT.ok;
          surveillance.push({ id: j.id, device: j.device, worse, diff: path.join(diffDir, 'diff.html') });
          io.err(`starbench: ${j.device}: against its certified run: ${worse ? 'WORSE' : 'not worse'} (${path.join(diffDir, 'diff.html')})\n`);
        } catch (err) {
          surveillance.push({ id: j.id, device: j.device, error: errorMessage(err) });
          io.err(`starbench: ${j.device}: the diff against its certified run failed: ${errorMessage(err)}\n`);
        }
      }
      const failed = Object.entries(j.checks ?? {})
        .filter(([, v]) => v === 'fail')
        .map(([id]) => id);
      rows.push({
        file: j.deviceFile,
        device: j.device,
        verdict: failed.length ? 'fail' : code === EXIT.ok ? 'pass' : 'inconclusive',
        exitCode: code,
        failed,
        runDir: reportDir,
        durationMs: 0,
      });
    }
    const summary: FleetSummary = {
      startedAt: new Date().toISOString(),
      durationMs: 0,
      parallel: 0,
      globalConnections: 0,
      peakRssKb: process.resourceUsage().maxRSS,
      exitCode: fleetExit(rows.map((r) => r.exitCode)),
      devices: rows,
    };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'campaign.json'), JSON.stringify({ ...statusJson(name, jobs), summary, surveillance }, null, 2) + '\n');
    writeFileSync(path.join(outDir, 'fleet.html'), renderFleetHtml(summary, outDir));
    io.out(`campaign ${name}: ${outDir}/fleet.html\n`);
    // A unit worse than its certified run fails the report, as `diff` does.
    return surveillance.some((s) => s.worse) && summary.exitCode === EXIT.ok ? EXIT.failed : summary.exitCode;
  } finally {
    await store.close();
  }
}
