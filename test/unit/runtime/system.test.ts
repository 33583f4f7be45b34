import { describe, expect, it } from 'vitest';
import { CommandError, run, runQuiet } from '../../../src/runtime/system.js';

describe('run', () => {
  it('returns stdout and stderr of a successful command', async () => {
    const r = await run('sh', ['-c', 'echo out; echo err >&2']);
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes arguments without a shell', async () => {
    const r = await run('printf', ['%s|', 'a b', '$HOME;']);
    expect(r.stdout).toBe('a b|$HOME;|');
  });

  it('rejects with the command line, exit code and stderr', async () => {
    const err = await run('sh', ['-c', 'echo nope >&2; exit 3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    const ce = err as CommandError;
    expect(ce.exitCode).toBe(3);
    expect(ce.stderr).toBe('nope\n');
    expect(ce.message).toContain('sh -c');
    expect(ce.message).toContain('nope');
    expect(ce.message).toContain('exit 3');
  });

  it('rejects a command that does not exist and one that times out', async () => {
    await expect(run('/nonexistent/tsipsec-cmd', [])).rejects.toThrow(/nonexistent/);
    await expect(run('sleep', ['5'], { timeoutMs: 100 })).rejects.toThrow(/timed out|killed/);
  });

  it('feeds stdin and runQuiet reports failure as false', async () => {
    expect((await run('cat', [], { input: 'abc' })).stdout).toBe('abc');
    expect(await runQuiet('false', [])).toBe(false);
    expect(await runQuiet('true', [])).toBe(true);
  });
});
