/** Anything that can be undone: a registration, a listener, a timer. */
export interface Disposable {
  dispose(): unknown;
}

export function toDisposable(fn: () => void | Promise<void>): Disposable {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      return fn();
    },
  };
}

/**
 * Disposes in reverse order of registration, so later registrations that may
 * depend on earlier ones go first. Errors are collected, never short-circuit.
 */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];

  /** Adding the same item twice keeps one entry, so it is disposed once. */
  push(...items: Disposable[]): void {
    for (const item of items) if (!this.items.includes(item)) this.items.push(item);
  }

  get size(): number {
    return this.items.length;
  }

  async dispose(): Promise<Error[]> {
    const errors: Error[] = [];
    while (this.items.length) {
      const item = this.items.pop()!;
      try {
        await item.dispose();
      } catch (err) {
        errors.push(err as Error);
      }
    }
    return errors;
  }
}
