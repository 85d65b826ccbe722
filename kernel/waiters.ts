/**
 * Callers waiting for a count to reach their mark (a commit sequence), or
 * just for a go (mark 0): released together when it does, rejected together
 * when what they wait on is gone.
 */
export class Waiters {
  #list: { mark: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  /** Resolves once `release(n)` is called with `n >= mark`. */
  wait(mark = 0): Promise<void> {
    return new Promise((resolve, reject) => this.#list.push({ mark, resolve, reject }));
  }

  /** Lets every waiter whose mark is at most `reached` go (all of them by default). */
  release(reached = Number.POSITIVE_INFINITY): void {
    const ready = this.#list.filter((w) => w.mark <= reached);
    this.#list = this.#list.filter((w) => w.mark > reached);
    for (const w of ready) w.resolve();
  }

  rejectAll(err: Error): void {
    for (const w of this.#list.splice(0)) w.reject(err);
  }
}
