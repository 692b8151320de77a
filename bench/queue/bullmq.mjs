// BullMQ peer of `nexus bench queue`: the same phases on the same Redis.
// node bullmq.mjs [jobs] -> human lines, then one JSON line.
import { Queue, Worker, QueueEvents } from 'bullmq';

const jobs = parseInt(process.argv[2] ?? '5000', 10);
const connection = { host: '127.0.0.1', port: 6379 };
const name = `nexus-bench-bullmq-${process.pid}`;
const now = () => performance.timeOrigin + performance.now(); // ms with µs precision
const queue = new Queue(name, { connection });

let t = now();
for (let i = 0; i < jobs; i++) await queue.add('noop', { n: i });
const enqueue = jobs / ((now() - t) / 1000);
await queue.obliterate({ force: true });

t = now();
for (let i = 0; i < jobs; i += 1000) {
  const chunk = [];
  for (let j = i; j < Math.min(jobs, i + 1000); j++) chunk.push({ name: 'noop', data: { n: j } });
  await queue.addBulk(chunk);
}
const enqueueBulk = jobs / ((now() - t) / 1000);

let count = 0;
const latencies = [];
const worker = new Worker(name, async (job) => {
  if (job.data.t) latencies.push(now() - job.data.t);
  count++;
}, { connection, concurrency: 100 });
const waitFor = async (n) => { while (count < n) await new Promise((r) => setImmediate(r)); };
t = now();
await waitFor(jobs);
const drain = jobs / ((now() - t) / 1000);

await new Promise((r) => setTimeout(r, 500));
latencies.length = 0;
for (let i = 0; i < 50; i++) {
  const before = count;
  await queue.add('noop', { n: i, t: now() });
  await waitFor(before + 1);
  await new Promise((r) => setTimeout(r, 20));
}
latencies.sort((a, b) => a - b);
const idle = latencies[Math.floor(latencies.length / 2)];

await worker.close();
await queue.obliterate({ force: true });
await queue.close();
console.log(`bullmq: enqueue ${enqueue.toFixed(0)}/s, bulk ${enqueueBulk.toFixed(0)}/s, drain ${drain.toFixed(0)}/s, idle latency ${idle.toFixed(2)} ms`);
console.log(JSON.stringify({ backend: 'bullmq', jobs, enqueue_per_s: enqueue, enqueue_bulk_per_s: enqueueBulk, drain_per_s: drain, idle_latency_ms: idle }));
process.exit(0);
