/**
 * Memory of a process tree (a gateway master and its workers), read from /proc/PID/status:
 * VmRSS (resident now) and VmHWM (the kernel's own resident high-water mark). Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeMemory {
  /** Sum of VmRSS over the tree, KiB. */
  readonly rssKb: number;
  /** Sum of VmHWM over the tree, KiB (an upper bound of the tree's peak: the peaks need not coincide). */
  readonly hwmKb: number;
  /**
   * Sum of RssAnon, KiB: the processes' own memory (heaps, buffers). VmRSS also counts the file pages
   * each process maps — node's binary and libraries, ~45 MiB per process, shared — once per process.
   */
  readonly anonKb: number;
  readonly processes: number;
}

function statusField(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/** Every descendant of `root` (and root), found through the ppid field of /proc/N/stat. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'latin1');
    } catch {
      continue; // exited while we were listing
    }
    // The command name is in parentheses and may itself contain spaces or ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(e));
    else children.set(ppid, [Number(e)]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

export function treeMemory(root: number): TreeMemory {
  let rssKb = 0;
  let hwmKb = 0;
  let anonKb = 0;
  let processes = 0;
  for (const pid of processTree(root)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'latin1');
    } catch {
      continue;
    }
    rssKb += statusField(status, 'VmRSS');
    hwmKb += statusField(status, 'VmHWM');
    anonKb += statusField(status, 'RssAnon');
    processes++;
  }
  return { rssKb, hwmKb, anonKb, processes };
}

/** Samples a tree's summed VmRSS every `intervalMs` and keeps the largest value seen. */
export class MemorySampler {
  private timer: NodeJS.Timeout | null = null;
  peakRssKb = 0;
  samples = 0;

  constructor(private readonly root: number, private readonly intervalMs = 250) {}

  start(): void {
    this.sampleOnce();
    this.timer = setInterval(() => this.sampleOnce(), this.intervalMs);
  }

  stop(): TreeMemory {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.sampleOnce();
  }

  private sampleOnce(): TreeMemory {
    const m = treeMemory(this.root);
    this.samples++;
    if (m.rssKb > this.peakRssKb) this.peakRssKb = m.rssKb;
    return m;
  }
}
