/**
 * Runs `fn` one call at a time: a call made while it runs shares the running promise and makes
 * it run once more afterwards, so nothing asked for in the meantime is missed.
 */
export function coalesced(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await fn();
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };
}
