/**
 * `tracechain start --exit-with-parent`: call back once the process that started this one is
 * gone, so a supervisor killed without a chance to clean up (SIGKILL, a crash) leaves no node
 * running and mining behind it. With an IPC channel (a parent that spawned us with 'ipc', as
 * `tracechain devnet` does) the channel's close says so at once; without one, the parent PID is
 * polled (a process whose parent dies is re-parented, so its ppid changes).
 */

export const PARENT_POLL_MS = 500;

/** Calls `onGone` once when the parent process is gone; returns a function that stops watching. */
export function watchParent(onGone: () => void): () => void {
  let fired = false;
  const fire = (): void => {
    if (fired) return;
    fired = true;
    onGone();
  };
  const channel = process.channel;
  if (channel !== undefined) {
    process.once('disconnect', fire);
    // The channel only listens: it must not keep the process alive once the node has stopped.
    channel.unref();
    return () => process.off('disconnect', fire);
  }
  const ppid = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== ppid) fire();
  }, PARENT_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
