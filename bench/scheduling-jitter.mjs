// How often this machine takes the CPU away from a running thread: one thread reads the clock in a
// busy loop for 10 s and records every gap of more than 1 ms between two readings (time it did not
// run). Run it on an otherwise idle machine:  node bench/scheduling-jitter.mjs [seconds]
const seconds = Number(process.argv[2] ?? 10);
const gaps = [];
let last = performance.now();
const end = last + seconds * 1000;
while (last < end) {
  const now = performance.now();
  if (now - last > 1) gaps.push(now - last);
  last = now;
}
gaps.sort((a, b) => b - a);
const lost = gaps.reduce((sum, gap) => sum + gap, 0);
console.log(
  `${gaps.length} gaps over 1 ms in ${seconds} s (${((100 * lost) / (seconds * 1000)).toFixed(1)}% of the time); ` +
    `largest: ${gaps
      .slice(0, 5)
      .map((gap) => `${gap.toFixed(1)} ms`)
      .join(', ')}`,
);
