import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../types.ts';
import { SerialQueues } from './serial.ts';

describe('SerialQueues', () => {
  it('runs the tasks of one key one at a time, in order, and others beside them', async () => {
    const queues = new SerialQueues();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([
      queues.run('a', task('a1', 20)),
      queues.run('a', task('a2', 1)),
      queues.run('b', task('b1', 1)),
    ]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    expect(queues.size('a')).toBe(0);
  });

  it('refuses a task past the bound, and takes new ones once the queue drains', async () => {
    const queues = new SerialQueues(2);
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const held = [queues.run('w', () => gate), queues.run('w', async () => 'second')];
    await expect(queues.run('w', async () => 'third')).rejects.toBeInstanceOf(QueueFullError);
    expect(queues.size('w')).toBe(2);
    release();
    await Promise.all(held);
    expect(queues.size('w')).toBe(0);
    await expect(queues.run('w', async () => 'again')).resolves.toBe('again');
  });

  it('a failed task does not stop the queue', async () => {
    const queues = new SerialQueues();
    const failed = queues.run('k', async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    await expect(queues.run('k', async () => 1)).resolves.toBe(1);
  });
});
