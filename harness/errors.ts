/**
 * Errors the harness raises on purpose. Each has a stable `code` that the CLI
 * maps to an exit code and a message that says what to do about it.
 */
export type ErrorCode =
  | 'USAGE'
  | 'DEVICE_FILE_UNREADABLE'
  | 'DEVICE_FILE_INVALID'
  | 'TARGET_OUT_OF_SCOPE'
  | 'PROFILE_UNKNOWN'
  | 'PROFILE_INVALID'
  | 'CHECK_UNKNOWN'
  | 'PLUGIN_INVALID'
  | 'REVIEW_INVALID'
  | 'RUN_DIR_INVALID'
  | 'VULN_SOURCE_INVALID'
  | 'STORE_UNREACHABLE'
  | 'JOB_INVALID'
  | 'PROBE_TIMEOUT'
  | 'CANCELLED'
  | 'INTERNAL';

export class StarbenchError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StarbenchError';
    this.code = code;
  }
}

/** Errors that come from what the user gave us (exit code 2). */
export function isInputError(err: unknown): err is StarbenchError {
  return (
    err instanceof StarbenchError &&
    [
      'USAGE',
      'DEVICE_FILE_UNREADABLE',
      'DEVICE_FILE_INVALID',
      'TARGET_OUT_OF_SCOPE',
      'PROFILE_UNKNOWN',
      'PROFILE_INVALID',
      'CHECK_UNKNOWN',
      'PLUGIN_INVALID',
      'REVIEW_INVALID',
      'RUN_DIR_INVALID',
      'VULN_SOURCE_INVALID',
      'STORE_UNREACHABLE',
    ].includes(err.code)
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
