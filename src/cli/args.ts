/** Argument parsing shared by the commands: node:util parseArgs, strict, with errors as UsageError. */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export type Options = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: false }>;
export type Values<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean; debug?: boolean };

export function parse<O extends Options>(command: string, argv: string[], options: O, allowPositionals = false): { values: Values<O>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } }, allowPositionals, strict: true });
    return { values: r.values as Values<O>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}\nRun 'tsipsec ${command} --help'.`);
  }
}
