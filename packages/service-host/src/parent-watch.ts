/**
 * Calls `onGone` once, when the write end of this process's stdin pipe closes: the parent holding
 * it has died, whatever killed it. Only for a process whose stdin is such a pipe.
 */
export function onParentGone(onGone: () => void): void {
  let called = false;
  const gone = () => {
    if (called) return;
    called = true;
    onGone();
  };
  for (const event of ['end', 'close', 'error']) process.stdin.once(event, gone);
  // Reading (and dropping) is what notices the end of the pipe.
  process.stdin.resume();
}
