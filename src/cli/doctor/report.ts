/**
 * How doctor prints: one line per check as it finishes, then a count; or, with --json, one JSON document.
 *   ✓ <check>: <what was found>
 *   ✗ <check>: <what went wrong> — fix: <what to do>
 *   • <check>: <a note: something absent or accepted on purpose> — hint: <how to change it>
 *   - <check>: skipped (<why it could not run>)
 */
import type { CheckResult } from './check.js';

const MARKS = { pass: '✓', fail: '✗', note: '•', skip: '-' } as const;

export function formatLine(result: CheckResult): string {
  const head = `${MARKS[result.status]} ${result.label}: `;
  switch (result.status) {
    case 'pass':
      return `${head}${result.detail}`;
    case 'fail':
      return `${head}${result.detail} — fix: ${result.fix ?? 'see the line above'}`;
    case 'note':
      return `${head}${result.detail}${result.fix === null ? '' : ` — hint: ${result.fix}`}`;
    case 'skip':
      return `${head}skipped (${result.detail})`;
  }
}

export function formatSummary(results: CheckResult[]): string {
  const count = (status: CheckResult['status']) => results.filter((result) => result.status === status).length;
  const notes = count('note');
  return `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped, ${notes} ${notes === 1 ? 'note' : 'notes'}`;
}

/** The --json document: the URL, whether every check is ok, and the checks in order. */
export function formatJson(url: string, results: CheckResult[]): string {
  return `${JSON.stringify({ url, ok: results.every((result) => result.ok), checks: results }, null, 2)}\n`;
}
