/**
 * Runs the checks in order. Each gets a deadline (--timeout unless it says otherwise) through an AbortSignal
 * that its probes stop on; should a check not settle by then anyway, it is reported as timed out and the next
 * one runs, so doctor never hangs on a server that does not answer.
 */
import { authCheck } from './auth-check.js';
import type { Check, CheckResult, DoctorContext, DoctorOptions, Outcome } from './check.js';
import { corsCheck } from './cors-check.js';
import { healthCheck, httpCheck, readyCheck } from './endpoint-checks.js';
import { latencyCheck } from './latency-check.js';
import { dnsCheck, tcpCheck, urlCheck } from './network-checks.js';
import { legacyCheck, modernCheck, sseCheck } from './protocol-checks.js';
import { tlsCheck } from './tls-check.js';
import { websocketCheck } from './websocket-check.js';

/** Every check, in the order they run (and print). */
export const CHECKS: readonly Check[] = [
  urlCheck,
  dnsCheck,
  tcpCheck,
  tlsCheck,
  httpCheck,
  healthCheck,
  readyCheck,
  corsCheck,
  authCheck,
  modernCheck,
  legacyCheck,
  sseCheck,
  websocketCheck,
  latencyCheck,
];

/** How long past its deadline a check that ignores its signal is given before it is reported as timed out. */
const DEADLINE_GRACE_MS = 250;

async function runOne(check: Check, context: DoctorContext): Promise<Outcome> {
  const deadline = check.deadlineMs?.(context) ?? context.options.timeoutMs;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let backstop: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      backstop = setTimeout(
        () =>
          resolve({
            status: 'fail',
            detail: `did not finish within ${deadline} ms`,
            fix: 'the server accepts the connection but does not answer: check that it runs and is not overloaded',
          }),
        DEADLINE_GRACE_MS,
      );
    }, deadline);
  });
  try {
    return await Promise.race([check.run(context, controller.signal), late]);
  } catch (error) {
    // A check reports what it finds; an exception here is doctor's own bug, said as such rather than a crash.
    return {
      status: 'fail',
      detail: `doctor could not run this check: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'report this as a remote-mcp bug, with the command line',
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(backstop);
  }
}

/** Runs every check against the URL; `onResult` sees each result as soon as it is known. */
export async function runDoctor(
  options: DoctorOptions,
  onResult: (result: CheckResult) => void = () => {},
): Promise<CheckResult[]> {
  const context: DoctorContext = {
    options,
    answered: { modern: false, legacy: false, sse: false, websocket: false },
  };
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    const skipped = check.skipIf?.(context);
    const outcome: Outcome | { status: 'skip'; detail: string } =
      skipped !== undefined ? { status: 'skip', detail: skipped } : await runOne(check, context);
    const result: CheckResult = {
      name: check.name,
      label: check.label,
      ok: outcome.status !== 'fail',
      status: outcome.status,
      detail: outcome.detail,
      fix: 'fix' in outcome && outcome.fix !== undefined ? outcome.fix : null,
    };
    results.push(result);
    onResult(result);
  }
  return results;
}
