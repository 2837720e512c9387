import type { Operator } from '../harness/types';

/** The CLI owns the terminal: every command writes through these. */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  colour: boolean;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** The person at the bench, when stdin is a terminal; absent otherwise. */
  operator?: Operator;
}
