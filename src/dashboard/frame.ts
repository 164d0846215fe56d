// Live events arrive one by one, possibly thousands a second; the DOM is
// touched once per animation frame with everything that came in meanwhile.

/** Collects items and hands them over in one batch per animation frame. */
export function perFrame<T>(apply: (batch: T[]) => void): (item: T) => void {
  let queue: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    apply(batch);
  };
  return (item: T) => {
    queue.push(item);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  };
}

/** Runs `task` at most once per `intervalMs`, and once more after the last call of a burst. */
export function throttle(task: () => void, intervalMs: number): () => void {
  let last = 0;
  let timer: number | undefined;
  return () => {
    if (timer !== undefined) return;
    const wait = Math.max(0, last + intervalMs - Date.now());
    timer = window.setTimeout(() => {
      timer = undefined;
      last = Date.now();
      task();
    }, wait);
  };
}
