// A process run to its exit with its output collected: how the harness and the tests run the
// control plane's binaries (kubectl, helm) and the build.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bin` to its exit with `input` on stdin, and returns what it printed; `onStderrLine` sees
 * stderr a line at a time as it comes (progress). Never throws on a non-zero exit.
 */
export function runProcess(
  bin: string,
  args: string[],
  opts: { input?: string; onStderrLine?: (line: string) => void } = {},
): Promise<RunResult> {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    if (!opts.onStderrLine) return;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) opts.onStderrLine(line);
  });
  // A process that exits before reading its stdin (most commands take none) makes the write fail
  // with EPIPE; what it did is in its exit code and output.
  child.stdin.on('error', () => {});
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (partial) opts.onStderrLine?.(partial);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
