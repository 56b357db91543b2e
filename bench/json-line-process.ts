// A child process spoken to in JSON lines: one request a line on its stdin, one reply a line on its
// stdout. Benches use it to keep one PyTorch process alive across rounds (one torch import, and the
// model stays loaded) while alternating with our own timed steps. Nothing runs on both sides at
// once: our steps are synchronous and the child waits on its stdin between requests.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type Reply = Record<string, unknown>;

export class JsonLineProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private readonly exited: Promise<string>;
  private stderrTail = "";

  /** label names the process in every error ("bench encoders: the PyTorch side"). */
  constructor(
    command: string,
    args: string[],
    readonly label: string,
  ) {
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    // A failed spawn (no such program) ends stdout; the reason is reported by next().
    let spawnError: Error | null = null;
    this.child.on("error", (e) => {
      spawnError = e;
    });
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) =>
        resolve(spawnError ? spawnError.message : `exit code ${code ?? `signal ${signal}`}`),
      ),
    );
    // Writing to a child that already died raises EPIPE here; the next read reports the exit instead.
    this.child.stdin.on("error", () => {});
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The next reply; a reply with an "error" field, or the process ending, throws. */
  async next(): Promise<Reply> {
    const r = await this.lines.next();
    if (r.done) {
      const how = await this.exited;
      throw new Error(`${this.label} ended (${how}) ${this.stderrTail.trim() || "with nothing on stderr"}`);
    }
    let reply: Reply;
    try {
      reply = JSON.parse(r.value) as Reply;
    } catch {
      throw new Error(`${this.label} wrote a line that is not JSON: ${r.value.slice(0, 200)}`);
    }
    if (typeof reply.error === "string") throw new Error(`${this.label}: ${reply.error}`);
    return reply;
  }

  async request(message: Record<string, unknown>): Promise<Reply> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    return this.next();
  }

  /** Asks the process to quit and waits for it. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end(`${JSON.stringify({ cmd: "quit" })}\n`);
    }
    await this.exited;
  }
}
