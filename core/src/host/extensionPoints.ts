import { toDisposable, type Disposable } from './disposable.js';

/** Values plugins contribute to each other's declared extension points. */
export class ExtensionPoints {
  private readonly values = new Map<string, { owner: string; value: unknown }[]>();
  private readonly listeners = new Map<string, Set<() => void>>();

  contribute(point: string, owner: string, value: unknown): Disposable {
    const entry = { owner, value };
    this.values.set(point, [...(this.values.get(point) ?? []), entry]);
    this.fire(point);
    return toDisposable(() => {
      this.values.set(point, (this.values.get(point) ?? []).filter((e) => e !== entry));
      this.fire(point);
    });
  }

  get<T>(point: string): T[] {
    return (this.values.get(point) ?? []).map((e) => e.value as T);
  }

  onDidChange(point: string, listener: () => void): Disposable {
    let set = this.listeners.get(point);
    if (!set) this.listeners.set(point, (set = new Set()));
    set.add(listener);
    return toDisposable(() => void set.delete(listener));
  }

  private fire(point: string) {
    for (const l of this.listeners.get(point) ?? []) {
      try {
        l();
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}
