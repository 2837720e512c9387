/**
 * One interface of optional, phase-named hooks; every output format is a
 * sibling that implements it. The multiplexer turns a throwing reporter into
 * a recorded error instead of a crashed run.
 */
import type { Report } from '../harness/report';
import type { CheckResult, ProbeResult, Reporter, ReporterError, RunBeginInfo, RunReporter } from '../harness/types';

export type { Reporter, ReporterError, RunBeginInfo, RunReporter } from '../harness/types';

export class ReporterMultiplexer implements RunReporter {
  readonly name = 'multiplexer';
  readonly errors: ReporterError[] = [];

  constructor(
    private readonly reporters: Reporter[],
    private readonly onError: (e: ReporterError) => void = () => undefined,
  ) {}

  private sink: Array<{ where: string; message: string }> | undefined;

  /** Also append later errors to this list (the report's `errors`, before the json reporter writes it). */
  collectInto(list: Array<{ where: string; message: string }>): void {
    this.sink = list;
    for (const e of this.errors) list.push({ where: `reporter ${e.reporter} (${e.hook})`, message: e.message });
  }

  private record(reporter: Reporter, hook: string, err: unknown): void {
    const e = { reporter: reporter.name, hook, message: err instanceof Error ? err.message : String(err) };
    this.errors.push(e);
    this.sink?.push({ where: `reporter ${e.reporter} (${e.hook})`, message: e.message });
    this.onError(e);
  }

  private each(hook: keyof Reporter, call: (r: Reporter) => void | Promise<void> | undefined): Promise<void> {
    return (async () => {
      for (const r of this.reporters) {
        try {
          await call(r);
        } catch (err) {
          this.record(r, hook, err);
        }
      }
    })();
  }

  private eachSync(hook: keyof Reporter, call: (r: Reporter) => void): void {
    for (const r of this.reporters) {
      try {
        call(r);
      } catch (err) {
        this.record(r, hook, err);
      }
    }
  }

  onRunBegin(info: RunBeginInfo): Promise<void> {
    return this.each('onRunBegin', (r) => r.onRunBegin?.(info));
  }
  onProbeBegin(probe: { id: string; title: string }): void {
    this.eachSync('onProbeBegin', (r) => r.onProbeBegin?.(probe));
  }
  onProbeProgress(probe: string, message: string): void {
    this.eachSync('onProbeProgress', (r) => r.onProbeProgress?.(probe, message));
  }
  onProbeEnd(result: ProbeResult): void {
    this.eachSync('onProbeEnd', (r) => r.onProbeEnd?.(result));
  }
  onCheckEnd(result: CheckResult): void {
    this.eachSync('onCheckEnd', (r) => r.onCheckEnd?.(result));
  }
  onRunEnd(report: Report, outDir: string): Promise<void> {
    return this.each('onRunEnd', (r) => r.onRunEnd?.(report, outDir));
  }
}
