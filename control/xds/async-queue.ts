/**
 * @module control/xds/async-queue
 * A minimal push queue exposed as an async iterable: stream handlers push responses from callbacks
 * (new snapshots, incoming requests) and the transport pulls them with `for await`. Closing with an
 * error makes the consumer's loop throw it; closing without one ends the loop after queued items.
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  close(error?: unknown): void;
  readonly closed: boolean;
}

export function createAsyncQueue<T>(): AsyncQueue<T> {
  const items: T[] = [];
  let waiter: (() => void) | null = null;
  let done = false;
  let failure: { error: unknown } | null = null;
  const wake = () => {
    const w = waiter;
    waiter = null;
    w?.();
  };
  return {
    get closed() {
      return done;
    },
    push(item) {
      if (done) return;
      items.push(item);
      wake();
    },
    close(error) {
      if (done) return;
      done = true;
      if (error !== undefined) failure = { error };
      wake();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length) {
          yield items.shift()!;
          continue;
        }
        if (failure) throw failure.error;
        if (done) return;
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    },
  };
}
