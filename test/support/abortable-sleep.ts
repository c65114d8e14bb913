/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (`onAbort` is told first). */
export function abortableSleep(ms: number, signal: AbortSignal, onAbort: () => void = () => {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    const abort = () => {
      clearTimeout(timer);
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}
