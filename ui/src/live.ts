import { onMounted, onUnmounted } from 'vue';

/**
 * Keeps a page live over Server-Sent Events: `load` runs when the page mounts, on each of the
 * stream's named events (a burst reloads once, within 100 ms) and after every (re)connection, so
 * what happened while the stream was down is read too.
 */
export function useLiveReload(url: () => string, event: string, load: () => Promise<unknown>): void {
  let source: EventSource | undefined;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const reload = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      load().catch(() => undefined);
    }, 100);
  };
  onMounted(() => {
    void load();
    source = new EventSource(url());
    source.addEventListener(event, reload);
    source.addEventListener('open', reload);
  });
  onUnmounted(() => {
    source?.close();
    if (pending) clearTimeout(pending);
  });
}
